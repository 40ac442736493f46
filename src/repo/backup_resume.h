// Resume of an interrupted backup. <label>/backup.resume holds a header line describing the
// backup; while it copies, each file durable in the repository becomes one JSON line (name,
// size, mtime, checksum, repo-size and, for a file stored as frames, its frame index) in a batch
// written whole as <label>/backup.resume.<n> (no storage appends: an object store cannot). The next
// backup of the same type (and prior) finds that directory, verifies each journaled file against
// its checksum, and moves the unchanged ones into itself instead of copying them again.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "io/compress.h"
#include "repo/layout.h"
#include "repo/manifest.h"
#include "storage/storage.h"

namespace backrest::repo {

struct ResumeHeader {
    std::string label, type, prior, compressType;
    int64_t timestampStart = 0;
};

struct ResumeEntry {
    uint64_t size = 0, repoSize = 0;
    int64_t mtime = 0;
    std::string checksum;
    uint64_t frameBytes = 0;  // the frame index of a file stored as frames (ManifestFile::frames)
    std::vector<uint64_t> frames;
};

// Appends to the journal of the backup being made; thread-safe.
class ResumeJournal {
  public:
    ResumeJournal(storage::Storage& repo, const Layout& layout, const ResumeHeader& header);
    ~ResumeJournal();  // closes the journal, keeping it for a later resume
    void add(const ManifestFile& file);
    // The backup is committed: the journal has served its purpose.
    void remove();

  private:
    void writeBatch();  // mutex_ held

    storage::Storage& repo_;
    std::string path_;
    std::shared_ptr<const crypto::RepoKey> key_;  // Layout::key: each piece sealed alone
    std::mutex mutex_;
    std::string pending_;  // lines not yet written
    size_t pendingFiles_ = 0;
    uint64_t batches_ = 0;
    std::chrono::steady_clock::time_point lastBatch_;
    bool removed_ = false;
};

struct ResumableBackup {
    ResumeHeader header;
    std::map<std::string, ResumeEntry> files;
};

// Looks at the interrupted backups (directories without a manifest) of the stanza: the newest
// whose journal matches type, prior and compression is returned for resume; all the others
// are removed.
std::optional<ResumableBackup> takeResumable(storage::Storage& repo, const Layout& layout,
                                             const std::string& type, const std::string& prior,
                                             const std::string& compressType);

// True when `file` (just scanned) may take the interrupted backup's copy: same size and mtime,
// the mtime older than that backup's start (see BackupJob::reusable), and the stored bytes
// still hash to the journaled checksum. Then the stored file is copied into `label` as it is read.
bool resumeFile(storage::Storage& repo, const Layout& layout, const ResumableBackup& from,
                const std::string& label, ManifestFile& file, size_t bufferSize);

}  // namespace backrest::repo
