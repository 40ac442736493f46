// Restores a backup's files into their target locations: largest first, in parallel, a file
// stored as frames frame by frame; global/pg_control alone, when everything else is durable.
#pragma once
#include <atomic>
#include <map>
#include <string>
#include <vector>

#include "repo/block_transfer.h"
#include "repo/file_transfer.h"
#include "repo/frame_writer.h"
#include "repo/info.h"
#include "repo/layout.h"
#include "repo/manifest.h"
#include "storage/async_close.h"
#include "storage/posix.h"
#include "worker/restore_delta.h"
#include "worker/restore_map.h"
#include "worker/restore_owner.h"
#include "worker/restore_plan.h"

namespace backrest {
class Config;
}

namespace backrest::cmd {

class FileRestorer {
  public:
    // Reads the manifest of every backup that stores files of this one (each with its own
    // compression), and of the whole chain when a file is block-stored: BackupSetError when
    // backup.info no longer lists one.
    FileRestorer(const Config& config, storage::Storage& repo, const repo::Layout& layout,
                 const repo::BackupInfo& backupInfo, const RestorePlan& backup,
                 const TargetLocations& locations, const DeltaPlan& deltaPlan, RestoreOwner& owner,
                 storage::PosixStorage& root);

    // Every file but global/pg_control and those --delta kept, each verified, closed and fsynced.
    void restoreAllButControl();
    // global/pg_control, last: a directory without it cannot be started. FormatError when the
    // backup has none.
    void restoreControl();

    // --delta's block-stored files compared with the backup block by block.
    uint64_t blocksCompared() const { return blocksCompared_.load(); }
    uint64_t blocksWritten() const { return blocksWritten_.load(); }

  private:
    struct Job;
    struct Jobs;
    void needBackup(const std::string& holder);
    std::string holderOf(const repo::ManifestFile& f) const;
    repo::RepoCodec codecOf(const std::string& holder) const;
    repo::ExpectedFile expectedOf(const repo::ManifestFile& f, const std::string& holder) const;
    void restoreFile(size_t index, storage::AsyncCloser* async);
    void planJobs(Jobs& jobs, storage::AsyncCloser& closer, repo::FrameWriter& frameWriter);
    void finishFramed(size_t index);

    storage::Storage& repo_;
    const repo::Layout& layout_;
    const repo::BackupInfo& backupInfo_;
    const std::string& label_;  // as chosen (messages name it so)
    const repo::Manifest& manifest_;
    const TargetLocations& locations_;
    const DeltaPlan& deltaPlan_;
    RestoreOwner& owner_;
    storage::PosixStorage& root_;
    const size_t processMax_;
    std::vector<size_t> order_;  // files to restore but pg_control, largest first
    size_t control_;             // index of global/pg_control; manifest_.files.size() if none
    repo::TransferOptions options_;
    repo::CompressByLabel compressOf_;
    std::map<std::string, std::string> priorOf_;
    std::atomic<uint64_t> blocksCompared_{0}, blocksWritten_{0};
};

}  // namespace backrest::cmd
