// The readers' side of the backup locks: restore and verify hold a shared lock on each backup
// they read (verify also on the WAL archive) for as long as they read it, so that an expire
// beside them keeps it (worker/expire.cpp) instead of removing files under them.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/config.h"
#include "repo/file_lock.h"
#include "repo/info.h"
#include "repo/layout.h"
#include "storage/storage.h"

namespace backrest::cmd {

class BackupReaders {
  public:
    BackupReaders(const Config& config, const repo::Layout& layout);

    // Waits while an expire removes WAL, then holds the archive until this object goes.
    void holdArchive();
    // A shared lock on `label`; false, with who holds it in *expirer, when an expire does.
    bool hold(const std::string& label, std::string* expirer);

  private:
    std::string lockPath_;
    repo::Layout layout_;
    std::optional<repo::LockOwner> owner_;
    std::map<std::string, std::unique_ptr<repo::FileLock>> held_;
    std::unique_ptr<repo::FileLock> archive_;
};

// `label` and every backup it depends on, from backup.info's prior links, newest first.
std::vector<std::string> backupChain(const repo::BackupInfo& info, const std::string& label);

// restore: holds `label` and its chain, then reads backup.info again and returns it.
// BackupSetInvalidError when an expire holds one of them ("backup X is being expired (expire,
// pid N)") or removed it meanwhile ("backup X was expired ...; available: ...").
repo::BackupInfo holdForRestore(BackupReaders& readers, storage::Storage& repo,
                                const repo::Layout& layout, const std::string& label);

// verify: holds every backup it will read (all, or the chain of `set`), reading backup.info again
// until it lists none not yet tried, and returns that backup.info without the backups an expire
// holds and those whose chain includes one (a warning each in `warnings`).
repo::BackupInfo holdForVerify(BackupReaders& readers, storage::Storage& repo,
                               const repo::Layout& layout, const std::optional<std::string>& set,
                               std::vector<std::string>& warnings);

// "A, B, C" or "none".
std::string availableBackups(const repo::BackupInfo& info);

}  // namespace backrest::cmd
