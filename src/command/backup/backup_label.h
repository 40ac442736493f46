// Choosing and claiming a new backup's label. Labels must sort in the order backups were taken
// ("latest" is the last label): a new label's time must be later than every existing backup's,
// so two backups in one second (an incr, then a diff: "…D" sorts before "…I") wait for the next
// second. A label is taken by a committed backup and by the directory of an interrupted one
// (which may be resumed, and must never be confused with this backup).
#pragma once

#include <memory>
#include <string>

#include "repo/info.h"
#include "repo/label_claim.h"
#include "repo/layout.h"
#include "storage/storage.h"

namespace backrest::backup {

class BackupLabeler {
  public:
    // `type` is the backup's (full, diff, incr); `prior` the label of its prior backup (empty
    // for a full backup).
    BackupLabeler(storage::Storage& repo, const repo::Layout& layout,
                  const repo::BackupInfo& backupInfo, std::string type, std::string prior);

    // A label for now that no backup holds and that sorts after every existing backup's,
    // waiting for a later second when needed. `notBefore` (a labelTime, "YYYYMMDD-HHMMSS"):
    // the label's time, when it is free here, else a later one (backup --repo=all takes one
    // time in every repository, chosen before any claims it: a second that passed meanwhile
    // must not give each repository another label).
    std::string firstFree(const std::string& notBefore = {});
    // Claims `label` in the repository. A claim that is not alone was withdrawn: the other
    // backup may have gone on with the label, so this one takes a later one after a random
    // pause (two that withdrew together part), and `label` changes. LockError after
    // kLabelAttempts claims.
    std::unique_ptr<repo::LabelClaim> claim(std::string& label);

  private:
    std::string make() const;
    // The label of this type at `stamp` (a labelTime).
    std::string labelAt(const std::string& stamp) const;
    bool taken(const std::string& label) const;
    void skipTaken(std::string& label) const;

    storage::Storage& repo_;
    const repo::Layout& layout_;
    const repo::BackupInfo& backupInfo_;
    std::string type_, prior_;
    std::string newest_;     // the latest label time of any backup in the repository
    std::string notBefore_;  // firstFree's
};

}  // namespace backrest::backup
