// pgBackRest's backupProcess: copies the files a CopyPlan chose from the data directory into the
// repository on process-max threads — large files alone (whole, as frames, or as blocks), small
// ones in bundles, and files an interrupted backup already stored taken from it — and records
// what each copy found in the file's manifest entry.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <vector>

#include "command/backup/backup_settings.h"
#include "command/backup/copy_plan.h"
#include "command/backup/page_check.h"
#include "repo/backup_resume.h"
#include "repo/file_transfer.h"
#include "repo/manifest.h"
#include "storage/async_close.h"

namespace backrest::backup {

// What a copy did beyond the manifest's records, for the backup's log.
struct CopyStats {
    uint64_t resumed = 0;  // files taken from the interrupted backup
    uint64_t blockFiles = 0, blocksStored = 0, blocksKept = 0;
};

class FileCopy {
  public:
    using Progress = std::function<void(const BackupProgress&)>;
    // `manifest` is the scanned one, its files planned by `plan`; `prior` and `resume` may be
    // null. `progress` is called from the copying threads, at most every ~0.5 s and once at the
    // end; it may throw to abort.
    FileCopy(const BackupSettings& settings, repo::Manifest& manifest, const CopyPlan& plan,
             const PriorBackup* prior, const repo::ResumableBackup* resume,
             repo::ResumeJournal& journal, const std::atomic<bool>& cancelled, Progress progress);

    // Copies every planned file and waits until each stored file is durable (closed), then
    // drops from the manifest the files that vanished during the copy.
    void run();
    const CopyStats& stats() const { return stats_; }

  private:
    void storeAlone(size_t index);
    void storeBundle(uint64_t id, const std::vector<size_t>& members);
    std::optional<repo::StoredFile> storeAsBlocks(repo::ManifestFile& file, uint32_t blockSize,
                                                  const repo::TransferOptions& options,
                                                  io::Filter* observer);
    // Options for storing `file` alone: frames and shared compression for large files.
    repo::TransferOptions aloneOptions(const repo::ManifestFile& file) const;
    void record(size_t index, const std::optional<repo::StoredFile>& stored, PageCheck& pageCheck);
    void recordPageErrors(repo::ManifestFile& file, PageCheck& pageCheck) const;
    void reportDone(uint64_t bytes);
    void dropVanished();

    const BackupSettings& s_;
    repo::Manifest& manifest_;
    const CopyPlan& plan_;
    const PriorBackup* prior_;
    const repo::ResumableBackup* resume_;
    repo::ResumeJournal& journal_;
    const std::atomic<bool>& cancelled_;
    Progress progressFn_;
    uint64_t startLsn_;
    std::string ext_;  // the stored files' extension (compression)

    storage::AsyncCloser closer_{2};  // fsync + rename overlap with compressing the next files
    repo::TransferOptions transfer_;  // s_.transfer, closing with closer_, cancelled by cancelled_
    std::mutex progressMutex_;
    BackupProgress progress_;
    double lastReport_ = 0;
    std::vector<bool> vanished_;
    std::atomic<uint64_t> resumed_{0}, blockFiles_{0}, blocksStored_{0}, blocksKept_{0};
    CopyStats stats_;
};

}  // namespace backrest::backup
