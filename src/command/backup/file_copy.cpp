// Copying a backup's files on process-max threads; see file_copy.h.
#include "command/backup/file_copy.h"

#include <fmt/format.h>

#include <chrono>

#include "common/log.h"
#include "common/parallel.h"
#include "pg/wal.h"
#include "repo/block_map.h"
#include "repo/block_transfer.h"
#include "repo/manifest_build.h"
#include "repo/piece.h"

namespace backrest::backup {

namespace {

// Below this, a file is compressed on its copying thread whatever its share of the backup.
constexpr uint64_t kSharedCompressMinSize = 32ull << 20;

double monotonicSeconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

}  // namespace

FileCopy::FileCopy(const BackupSettings& settings, repo::Manifest& manifest, const CopyPlan& plan,
                   const PriorBackup* prior, const repo::ResumableBackup* resume,
                   repo::ResumeJournal& journal, const std::atomic<bool>& cancelled,
                   Progress progress)
    : s_(settings),
      manifest_(manifest),
      plan_(plan),
      prior_(prior),
      resume_(resume),
      journal_(journal),
      cancelled_(cancelled),
      progressFn_(std::move(progress)),
      startLsn_(pg::parseLsn(manifest.lsnStart)),
      ext_(settings.transfer.codec.extension()),
      transfer_(settings.transfer),
      vanished_(manifest.files.size(), false) {
    transfer_.closer = &closer_;
    transfer_.cancel = &cancelled_;
    transfer_.directAppend = true;
    progress_.bytesTotal = manifest_.totalSize() - plan_.referencedBytes;
    progress_.filesTotal = plan_.filesToCopy;
}

void FileCopy::run() {
    const auto& alone = plan_.alone;
    runParallel(s_.processMax, alone.size() + plan_.bundles.size(), [&](size_t job) {
        checkCancelled(cancelled_, manifest_.label);
        if (job < alone.size()) return storeAlone(alone[job]);
        size_t b = job - alone.size();
        storeBundle(b + 1, plan_.bundles[b]);
    });
    closer_.finish();
    dropVanished();
    stats_ = {resumed_.load(), blockFiles_.load(), blocksStored_.load(), blocksKept_.load()};
}

void FileCopy::dropVanished() {
    auto& files = manifest_.files;
    size_t kept = 0;
    for (size_t i = 0; i < files.size(); i++) {
        if (vanished_[i]) continue;
        if (kept != i) files[kept] = std::move(files[i]);
        kept++;
    }
    files.resize(kept);
}

void FileCopy::reportDone(uint64_t bytes) {
    std::lock_guard lock(progressMutex_);
    progress_.filesDone++;
    progress_.bytesDone += bytes;
    double now = monotonicSeconds();
    if (now - lastReport_ >= 0.5 || progress_.filesDone == progress_.filesTotal) {
        lastReport_ = now;
        progressFn_(progress_);
    }
}

void FileCopy::recordPageErrors(repo::ManifestFile& file, PageCheck& pageCheck) const {
    file.pageChecked = true;
    if (pageCheck.filter->failedCount() > 0)
        file.pageErrors =
            recheckPages(s_.pgPath + "/" + repo::dataDirectoryPath(file.name),
                         pageCheck.filter->failedPages(), pageCheck.segment, startLsn_);
    if (!file.pageErrors.empty())
        logWarn(
            "backup {}: invalid page checksum in '{}': page{} {} (of {} pages checked); "
            "the data "
            "file is damaged on the database host",
            manifest_.label, file.name, file.pageErrors.size() > 1 ? "s" : "",
            fmt::join(file.pageErrors, ", "), pageCheck.filter->pagesChecked());
}

namespace {

// What was stored, in the file's manifest entry.
void applyStored(repo::ManifestFile& file, const repo::StoredFile& stored) {
    file.size = stored.size;
    file.repoSize = stored.repoSize;
    file.checksum = stored.checksum;
    file.frameBytes = stored.frameBytes;
    file.frames = stored.frames;
}

}  // namespace

// What a copy found goes into the file's manifest entry.
void FileCopy::record(size_t index, const std::optional<repo::StoredFile>& stored,
                      PageCheck& pageCheck) {
    auto& file = manifest_.files[index];
    if (stored && pageCheck.filter) recordPageErrors(file, pageCheck);
    if (!stored) {
        logDetail("backup: {} was removed during the backup; skipped", file.name);
        vanished_[index] = true;
    } else {
        applyStored(file, *stored);
    }
    reportDone(stored ? stored->size : 0);
}

repo::TransferOptions FileCopy::aloneOptions(const repo::ManifestFile& file) const {
    // A file larger than one thread's share of the backup would keep one thread compressing
    // while the others run out of files: zstd compresses it on threads of its own, and this
    // thread only reads and checksums it.
    repo::TransferOptions options = transfer_;
    options.sizeHint = file.size;
    if (s_.processMax > 1 && file.size >= kSharedCompressMinSize &&
        file.size * s_.processMax > progress_.bytesTotal)
        options.compressWorkers = static_cast<int>(s_.processMax);
    // Large files as independent frames, so that a restore shares them between its threads.
    // At process-max 1 the one compressing thread is a frame worker, so that reading and
    // checksumming overlap with compression (as `zstd -T1` overlaps its I/O with its one
    // compression thread).
    if (file.size > repo::kFrameBytes) {
        options.frameBytes = repo::kFrameBytes;
        if (s_.processMax == 1) options.compressWorkers = 1;
    }
    return options;
}

void FileCopy::storeAlone(size_t index) {
    auto& file = manifest_.files[index];
    uint32_t blockSize = s_.block ? repo::blockSizeFor(file.size) : 0;
    if (blockSize == 0 && resume_ &&
        repo::resumeFile(*s_.repo, s_.layout, *resume_, manifest_.label, file,
                         s_.transfer.bufferSize)) {
        journal_.add(file);
        resumed_++;
        reportDone(file.size);
        return;
    }
    PageCheck pageCheck = pageCheckFor(file, manifest_.dataChecksums, startLsn_);
    repo::TransferOptions options = aloneOptions(file);
    // Only files stored whole on their own are journaled and resumed, once durable: the entry
    // is a copy, as the manifest's own is filled in by this thread meanwhile.
    if (blockSize == 0)
        options.durable = [this, entry = file](const repo::StoredFile& stored) mutable {
            applyStored(entry, stored);
            journal_.add(entry);
        };
    auto stored =
        blockSize ? storeAsBlocks(file, blockSize, options, pageCheck.observer())
                  : repo::storeFile(*s_.pgData, repo::dataDirectoryPath(file.name), *s_.repo,
                                    s_.layout.backupFile(manifest_.label, file.name, ext_),
                                    repo::backupFilePiece(s_.layout, manifest_.label, file.name),
                                    options, pageCheck.observer());
    record(index, stored, pageCheck);
}

// One bundle: its files appended one after another to one repository file, closed (made
// durable) once, like any other file, by the closing threads.
void FileCopy::storeBundle(uint64_t id, const std::vector<size_t>& members) {
    storage::WriteOptions write;
    write.syncPath = false;  // every directory is synced before the manifest is written
    write.directAppend = true;
    auto out = s_.repo->openWrite(s_.layout.bundleFile(manifest_.label, id), write);
    uint64_t offset = 0;
    bool stored = false;
    for (size_t index : members) {
        checkCancelled(cancelled_, manifest_.label);
        auto& file = manifest_.files[index];
        PageCheck pageCheck = pageCheckFor(file, manifest_.dataChecksums, startLsn_);
        repo::TransferOptions options = transfer_;
        options.sizeHint = file.size;
        // Sealed as the file it is, not as the bundle: a member reads alone, and one moved
        // within or between bundles does not open.
        auto one = repo::appendFile(*s_.pgData, repo::dataDirectoryPath(file.name), *out,
                                    repo::backupFilePiece(s_.layout, manifest_.label, file.name),
                                    options, pageCheck.observer());
        if (one) {
            file.bundleId = id;
            file.bundleOffset = offset;
            offset += one->repoSize;
            stored = true;
        }
        record(index, one, pageCheck);
    }
    if (stored) closer_.close(std::move(out));  // else (every file vanished) it is discarded
}

// The prior version's map (where the prior backup, or the one it references, holds the file)
// decides which blocks changed. A map that cannot be used costs only space: every block is
// stored again and the new map depends on nothing damaged.
std::optional<repo::StoredFile> FileCopy::storeAsBlocks(repo::ManifestFile& file,
                                                        uint32_t blockSize,
                                                        const repo::TransferOptions& options,
                                                        io::Filter* observer) {
    std::optional<repo::ResolvedBlockMap> priorMap;
    if (const repo::ManifestFile* p = prior_ ? prior_->find(file.name) : nullptr) {
        const std::string& holder = prior_->holderOf(*p);
        if (p->blockSize == blockSize) {
            try {
                priorMap = repo::resolveBlockMap(*s_.repo, s_.layout, holder, file.name);
            } catch (const Error& e) {
                logWarn(
                    "backup {}: the block map of '{}' in backup {} cannot be used, so every block "
                    "of the file is "
                    "stored again: {}",
                    manifest_.label, file.name, holder, e.what());
            }
        }
    }
    auto stored = repo::storeBlocks(*s_.pgData, repo::dataDirectoryPath(file.name), *s_.repo,
                                    {&s_.layout, manifest_.label, file.name}, blockSize,
                                    priorMap ? &*priorMap : nullptr, options, observer);
    if (!stored) return std::nullopt;
    file.blockSize = blockSize;
    file.referencedBlockBytes = stored->referencedBytes;
    blockFiles_++;
    blocksStored_ += stored->blocksStored;
    blocksKept_ += stored->blocksKept;
    logDebug("backup {}: '{}' stored {} of {} blocks", manifest_.label, file.name,
             stored->blocksStored, stored->blocksStored + stored->blocksKept);
    return stored->file;
}

}  // namespace backrest::backup
