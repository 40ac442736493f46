// The data directory a backup from a standby reads: the relation files (base/, global/ but
// pg_control, the tablespaces' contents) from the standby, everything else from the primary.
// The backup job sees one read-only storage and knows nothing of the split; a remote standby is
// another Storage given here (the remote-host driver), nothing else changes.
#pragma once

#include <memory>
#include <string>

#include "storage/storage.h"

namespace backrest::backup {

// Whether a path relative to the data directory is read from the standby. The standby holds the
// same relation files as the primary once it has replayed to the backup's start (WAL replay from
// that start makes every copy consistent, as for a copy taken on the primary); what is not
// replicated, or differs on a standby, comes from the primary: pg_control (the primary's, so the
// restored cluster is the primary, not a standby in recovery), the configuration files,
// standby.signal (absent on the primary, so never restored), pg_xact and the other SLRU
// directories, and the tablespace links (the primary's locations).
bool readFromStandby(const std::string& relativePath);

class StandbyDataStorage : public storage::Storage {
  public:
    StandbyDataStorage(std::shared_ptr<storage::Storage> primary,
                       std::shared_ptr<storage::Storage> standby);

    storage::Features features() const override;
    std::unique_ptr<storage::StorageRead> openRead(const std::string& path,
                                                   bool ignoreMissing = false,
                                                   const storage::ReadRange& range = {}) override;
    std::unique_ptr<storage::StorageWrite> openWrite(
        const std::string& path, const storage::WriteOptions& options = {}) override;
    std::optional<storage::FileInfo> info(const std::string& path,
                                          bool followLink = false) override;
    std::vector<storage::FileInfo> list(const std::string& path,
                                        bool ignoreMissing = true) override;
    void remove(const std::string& path, bool errorOnMissing = false) override;
    void removePath(const std::string& path, bool recursive) override;
    std::string fullPath(const std::string& path) const override;

  private:
    storage::Storage& side(const std::string& path) const;

    std::shared_ptr<storage::Storage> primary_, standby_;
};

}  // namespace backrest::backup
