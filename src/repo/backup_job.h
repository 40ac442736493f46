// One backup, in the three steps both drivers share: the CLI (over libpq) and the worker daemon
// (driven by the extension's backup bgworker) call begin(), then copy() after pg_backup_start,
// then finish() after pg_backup_stop. The job holds the stanza lock from begin() to its end;
// destroyed before finish() it leaves no manifest (the backup does not exist), and its files
// stay for the next backup of the same type to resume from.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "repo/backup_resume.h"
#include "repo/bundle.h"
#include "repo/file_transfer.h"
#include "repo/info.h"
#include "repo/label_claim.h"
#include "repo/layout.h"
#include "repo/lock.h"
#include "repo/manifest.h"
#include "storage/storage.h"

namespace backrest::repo {

struct BackupSettings {
    storage::Storage* repo = nullptr;
    Layout layout;
    TransferOptions transfer;
    size_t processMax = 1;
    std::string lockPath;
    std::string pgPath;  // absolute data directory
    // The data directory's storage (a PosixStorage of pgPath): given by the caller, so that the
    // job knows no driver.
    std::shared_ptr<storage::Storage> pgData;
    bool archiveCheck = true;
    int archiveTimeout = 60;  // seconds
    int lockWait =
        0;  // seconds to wait for the stanza lock (the daemon: an abandoned backup unwinding)
    // repo1-block: files of at least kBlockMinFileSize are stored as blocks, and a changed file
    // stores only the blocks that differ from the prior backup's.
    bool block = false;
    // repo1-bundle: files of at most bundle.limit bytes (and not block-stored) are stored
    // together in bundles (repo/bundle.h).
    BundleSettings bundle;
};

// What pg_backup_start and the server tell the job.
struct BackupStart {
    std::string lsn;      // pg_backup_start's LSN
    std::string walFile;  // pg_walfile_name of it
    int64_t timestamp = 0;
    uint32_t walSegmentSize = 0;
    bool dataChecksums = false;
    std::map<uint32_t, std::string> tablespaceNames;
};

// What pg_backup_stop returns.
struct BackupStop {
    std::string lsn;
    std::string walFile;
    std::string labelFile;
    std::string tablespaceMap;
};

struct BackupProgress {
    uint64_t bytesTotal = 0, bytesDone = 0;
    uint64_t filesTotal = 0, filesDone = 0;
};

class BackupJob {
  public:
    explicit BackupJob(BackupSettings settings);
    ~BackupJob();

    // Takes the lock, checks the cluster in pgPath is the stanza's, removes remains of
    // interrupted backups, chooses the prior backup (diff: the latest full; incr: the latest
    // backup; none: the backup becomes full, with a warning) and the label.
    const std::string& begin(const std::string& type);
    // Scans the data directory and copies every file in parallel. `progress` is called from
    // the copying threads, at most every ~0.5 s and once at the end; it may throw to abort.
    void copy(const BackupStart& start, const std::function<void(const BackupProgress&)>& progress);
    // Stores backup_label / tablespace_map, waits for the WAL range in the archive, fsyncs,
    // writes the manifest and adds the backup to backup.info. Returns the committed manifest.
    const Manifest& finish(const BackupStop& stop);

    // Makes copy() and finish() stop at the next file / poll with a Cancelled error.
    void cancel() { cancelled_ = true; }
    const std::string& label() const { return manifest_.label; }
    const std::string& type() const { return manifest_.type; }
    uint64_t systemId() const { return manifest_.systemId; }

  private:
    void checkCancelled() const;

    BackupSettings s_;
    std::unique_ptr<StanzaLock> lock_;
    std::unique_ptr<LabelClaim> claim_;  // the label, claimed in the repository
    // Unchanged files reference the prior backup's bytes instead of being copied.
    bool reusable(const ManifestFile& file, ManifestFile& from) const;
    // Stores a (changed) file as blocks against the prior backup's block map of it, if usable.
    std::optional<StoredFile> storeAsBlocks(storage::Storage& pgData, ManifestFile& file,
                                            uint32_t blockSize, const TransferOptions& transfer,
                                            io::Filter* observer);

    BackupInfo backupInfo_;
    std::optional<Manifest> prior_;
    std::optional<ResumableBackup> resume_;  // an interrupted backup whose files we may take
    std::unique_ptr<ResumeJournal> journal_;
    std::map<std::string, size_t> priorFiles_;  // name -> index in prior_->files
    ArchiveInfo archiveInfo_;
    Manifest manifest_;
    std::atomic<uint64_t> blocksStored_{0}, blocksKept_{0}, blockFiles_{0};
    std::atomic<bool> cancelled_{false};
    bool committed_ = false;
};

}  // namespace backrest::repo
