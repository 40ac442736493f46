// What most commands derive from the configuration: the repository, the stanza's layout,
// the database connection and the transfer options.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "common/config.h"
#include "pg/client.h"
#include "repo/bundle.h"
#include "repo/file_lock.h"
#include "repo/file_transfer.h"
#include "repo/layout.h"
#include "repo/repo_cipher.h"
#include "storage/posix.h"

namespace backrest::cmd {

// Write: the commands that write the repository (stanza-create, backup, expire, archive-push,
// serve) refuse, with RepoOwnerError, to run as a user other than the owner of repo1-path.
enum class RepoAccess { Read, Write };
// With --stanza, opens the stanza's repository key right after (repo/repo_cipher.h): nullptr for an
// unencrypted repository; CryptoError on a wrong passphrase or settings that do not match it. The
// layout and codec taken afterwards (stanzaLayout, repoCodec, transferOptions) carry the key.
std::unique_ptr<storage::Storage> openRepo(const Config& config,
                                           RepoAccess access = RepoAccess::Read);
// The storage alone, without the key (stanza-rekey opens it with either passphrase).
std::unique_ptr<storage::Storage> openRepoStorage(const Config& config, RepoAccess access);
repo::CipherSettings cipherSettings(const Config& config);
// The key of `stanza` in `repo` with this command's cipher settings (info lists several stanzas).
std::shared_ptr<const crypto::RepoKey> openStanzaKey(const Config& config, storage::Storage& repo,
                                                     const std::string& stanza);
// stanza-create of an encrypted repository: the key it generated.
void useRepoKey(std::shared_ptr<const crypto::RepoKey> key);
// Who gets the lock files a root reader creates: the repository's owner (nullopt unless root).
std::optional<repo::LockOwner> lockOwner(const Config& config);
repo::Layout stanzaLayout(const Config& config);
pg::ConnectOptions connectOptions(const Config& config);
// What is applied to every stored file: the one place the codec is built from the options.
repo::RepoCodec repoCodec(const Config& config);
repo::TransferOptions transferOptions(const Config& config);
// repo1-bundle, repo1-bundle-size, repo1-bundle-limit.
repo::BundleSettings bundleSettings(const Config& config);
// pg1-path as an absolute path (required).
std::string pgPath(const Config& config);

// Seconds since the epoch, as a double, for durations.
double nowSeconds();
std::string formatBytes(uint64_t bytes);     // "1.2 GiB"
std::string formatTimestamp(int64_t epoch);  // "2026-11-21 23:59:59+00"

// Waits until each WAL segment in [first, last] is in the archive; ArchiveTimeoutError naming
// the first missing segment after archive-timeout seconds.
void waitForArchive(storage::Storage& repo, const repo::Layout& layout,
                    const std::string& archiveId, const std::vector<std::string>& segments,
                    int timeoutSeconds, const std::string& what);

}  // namespace backrest::cmd
