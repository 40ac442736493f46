// A backup's claim on its label in the repository. lock-path locks one host only: two hosts
// backing up one stanza into one bucket in the same second chose the same label and wrote
// into the same directory, each overwriting the other's files, and both reported success.
// Each backup writes <label>/backup.claim.<host>-<pid>-<random> (a key of its own, so nothing is
// overwritten), then lists the claims there: it goes on only if its claim is alone. Of two
// backups, the one that lists second always sees both claims and stops; if both list after
// both wrote, both stop (no mixing, a clear error; the retry gets a later label).
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
    // Writes the claim and checks it is alone; raises LockError naming the label and the other
    // claim (its host) otherwise, after removing its own.
    LabelClaim(storage::Storage& repo, const Layout& layout, const std::string& label);
    // Removes the claim once the backup is committed (its manifest written).
    void release();

  private:
    storage::Storage& repo_;
    std::string path_;
};

}  // namespace backrest::repo
