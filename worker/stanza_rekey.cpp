// stanza-rekey: a new passphrase for an encrypted stanza. The repository key is re-wrapped, not
// changed: only the envelope lines of backup.info and archive.info (and their copies) are
// rewritten, no data file is read or written (repo/repo_cipher.h says why a crash at any point
// leaves exactly one of the two passphrases working).
#include <fmt/format.h>

#include "common/error.h"
#include "repo/lock.h"
#include "repo/repo_cipher.h"
#include "worker/commands.h"
#include "worker/context.h"

namespace backrest::cmd {

int stanzaRekey(const Config& config) {
    auto layout = stanzaLayout(config);
    if (config.getString(opt::repo1CipherType) == "none")
        raise(ErrorCode::Crypto,
              "stanza-rekey: repo1-cipher-type is none: set repo1-cipher-type=aes-256-gcm and "
              "repo1-cipher-pass (the current passphrase) for stanza '{}'",
              layout.stanza);
    auto currentPass = config.find(opt::repo1CipherPass);
    if (!currentPass)
        raise(ErrorCode::Option,
              "stanza-rekey: repo1-cipher-pass (the current passphrase) is not set: set it in the "
              "config file or in BACKREST_REPO1_CIPHER_PASS");
    auto newPass = config.find(opt::repo1CipherPassNew);
    if (!newPass)
        raise(ErrorCode::Option,
              "stanza-rekey: repo1-cipher-pass-new (the new passphrase) is not set: set it in "
              "BACKREST_REPO1_CIPHER_PASS_NEW or in the config file");
    // No backup or expire of this stanza on this host rewrites an info file meanwhile (archive-push
    // writes none; its lock keeps out any later writer of archive.info).
    std::string lockPath = config.getString(opt::lockPath);
    repo::StanzaLock backupLock(lockPath, layout.stanza, "backup");
    repo::StanzaLock archiveLock(lockPath, layout.stanza, "archive");
    // The key is opened by rekeyRepo, with either passphrase: not by openRepo, which would refuse
    // the new one after an interrupted rekey.
    auto repo = openRepoStorage(config, RepoAccess::Write);
    uint64_t generation = repo::rekeyRepo(*repo, layout, *currentPass, *newPass);
    fmt::print(
        "stanza-rekey: stanza '{}': the repository key is now wrapped under the new passphrase "
        "(generation {}); the old passphrase no longer opens it\n",
        layout.stanza, generation);
    return 0;
}

}  // namespace backrest::cmd
