// stanza-create: records the cluster's identity (version, system identifier) in backup.info
// and archive.info. Idempotent for the same cluster; refuses another cluster's repository.
#include "worker/stanza_create.h"

#include <fmt/format.h>

#include "common/error.h"
#include "common/log.h"
#include "crypto/key_envelope.h"
#include "crypto/repo_key.h"
#include "pg/control.h"
#include "repo/info.h"
#include "repo/repo_cipher.h"
#include "storage/posix.h"
#include "worker/commands.h"
#include "worker/context.h"
#include "worker/stop_start.h"

namespace backrest::cmd {

std::string createStanza(storage::Storage& repo, const repo::Layout& layout,
                         const std::string& pgPath) {
    storage::PosixStorage pgData(pgPath);
    auto control = pg::readControl(pgData);
    if (!pg::isSupportedVersion(control.version))
        raise(ErrorCode::DbMismatch,
              "PostgreSQL {} in '{}' is not supported by this backrest (15 is)", control.version,
              pgPath);

    repo::DbIdentity db{1, control.version, control.systemId};
    auto backupInfo = repo::loadBackupInfo(repo, layout);
    auto archiveInfo = repo::loadArchiveInfo(repo, layout);
    if (backupInfo)
        repo::checkIdentity(backupInfo->current(), db.version, db.systemId, layout.stanza,
                            "stanza-create");
    if (archiveInfo)
        repo::checkIdentity(archiveInfo->current(), db.version, db.systemId, layout.stanza,
                            "stanza-create");
    if (backupInfo && archiveInfo)
        return fmt::format("stanza '{}' already exists for PostgreSQL {} system {}; nothing to do",
                           layout.stanza, db.version, db.systemId);
    // The info files are the stanza (an object store has no directories to create first).
    if (!archiveInfo) repo::saveArchiveInfo(repo, layout, repo::ArchiveInfo{{db}});
    if (!backupInfo) repo::saveBackupInfo(repo, layout, repo::BackupInfo{{db}, {}});
    return fmt::format("stanza '{}' created in '{}' for PostgreSQL {} system {}", layout.stanza,
                       repo.fullPath(""), db.version, db.systemId);
}

std::shared_ptr<const crypto::RepoKey> newStanzaKey(const Config& config) {
    auto key = crypto::RepoKey::generate();
    auto envelope = crypto::wrapKey(*key, config.getString(opt::repo1CipherPass), 1);
    repo::rememberEnvelope(*key, envelope);
    logInfo("stanza-create: new repository key {} ({}), wrapped as generation 1", key->id(),
            config.getString(opt::repo1CipherType));
    return key;
}

int stanzaCreate(const Config& config) {
    requireNotStopped(config, "stanza-create");
    // Opens the key of an existing encrypted stanza, and refuses cipher settings that do not
    // match what exists (repo/repo_cipher.h): only a stanza that does not exist yet gets a key.
    auto repo = openRepo(config, RepoAccess::Write);
    auto layout = stanzaLayout(config);
    std::string cipherType = config.getString(opt::repo1CipherType);
    if (!layout.key && cipherType != "none") {
        layout.key = newStanzaKey(config);
        useRepoKey(layout.key);
    }
    fmt::print("stanza-create: {}\n", createStanza(*repo, layout, pgPath(config)));
    return 0;
}

}  // namespace backrest::cmd
