// A backup's claim on its label in the repository. lock-path locks one host only: two hosts
// backing up one stanza into one bucket in the same second chose the same label and wrote
// into the same directory, each overwriting the other's files, and both reported success.
// Each backup writes <label>/backup.claim.<host>-<pid>-<random> (a key of its own, so nothing is
// overwritten), then lists the claims there: it goes on only if its claim is alone. Of two
// backups, the one that lists second always sees both claims and stops; if both list after
// both wrote, both withdraw. A backup that withdrew tries a later label after a random pause
// (backup::BackupLabeler::claim): every attempt is write-then-list, so two backups never both go on
// with one label, and of two racing backups one goes on (on a CI run, all three rounds of two hosts
// starting in one second withdrew both: neither backup was taken).
#pragma once

#include <optional>
#include <string>

#include "repo/layout.h"
#include "storage/storage.h"

namespace backrest::repo {

// The claim of a backup that may still be running in <label>: one from another host (whose
// processes cannot be seen from here), or from a live process of this host; nullopt when the
// directory has no claim or only claims of dead processes of this host (a backup killed here)
// or of this process (a failed backup of a daemon that lives on).
// An interrupted backup's directory is resumed or removed only without one: removing it under
// a running backup made that backup commit a manifest naming removed files.
std::optional<std::string> runningClaim(storage::Storage& repo, const Layout& layout,
                                        const std::string& label);

class LabelClaim {
  public:
    // Writes the claim and checks it is alone; when it is not, removes it again: alone() is
    // false and other() names the other claim.
    LabelClaim(storage::Storage& repo, const Layout& layout, const std::string& label);
    bool alone() const { return other_.empty(); }
    const std::string& other() const { return other_; }
    // Raises LockError naming the label, the directory and the other claim (its host).
    [[noreturn]] void raiseTaken(const Layout& layout, const std::string& label) const;
    // Removes the claim once the backup is committed (its manifest written).
    void release();

  private:
    storage::Storage& repo_;
    std::string path_;
    std::string other_;
};

}  // namespace backrest::repo
