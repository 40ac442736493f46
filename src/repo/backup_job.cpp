// The shared backup steps: lock and identity, parallel copy, label files, WAL wait, manifest.
#include "repo/backup_job.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "common/error.h"
#include "common/log.h"
#include "common/parallel.h"
#include "common/version.h"
#include "io/page_checksum_filter.h"
#include "pg/control.h"
#include "pg/page_checksum.h"
#include "pg/wal.h"
#include "repo/block_transfer.h"
#include "repo/manifest_build.h"
#include "repo/piece.h"
#include "repo/wal_archive.h"

namespace backrest::repo {

namespace {

// Attempts at a label two backups claimed at the same moment before giving up (LockError).
constexpr int kLabelAttempts = 5;

// The longest pause between two looks for a WAL segment the backup waits for.
constexpr std::chrono::milliseconds kArchivePollMax{500};

// Below this, a file is compressed on its copying thread whatever its share of the backup.
constexpr uint64_t kSharedCompressMinSize = 32ull << 20;

double monotonicSeconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// A page can fail its checksum because PostgreSQL was writing it while we read it (a torn
// read). Each failed page is read once more on its own: only a page that still fails, and
// whose LSN is older than the backup start, is a real error.
std::vector<uint32_t> recheckPages(const std::string& path, const std::vector<uint32_t>& pages,
                                   uint32_t segment, uint64_t startLsn) {
    std::vector<uint32_t> still;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return {};  // dropped since: nothing left to be wrong
    uint8_t page[pg::kPageSize];
    for (uint32_t index : pages) {
        ssize_t n = ::pread(fd, page, sizeof page, static_cast<off_t>(index) * pg::kPageSize);
        if (n != static_cast<ssize_t>(sizeof page)) continue;  // truncated since: replay fixes it
        if (pg::PageHeaderView(page).lsn() >= startLsn) continue;
        if (!pg::isPageValid(page, segment * pg::kRelationSegmentPages + index))
            still.push_back(index);
    }
    ::close(fd);
    return still;
}

}  // namespace

BackupJob::BackupJob(BackupSettings settings) : s_(std::move(settings)) {}

// An uncommitted backup leaves no manifest: it does not exist. Its files and resume journal
// stay for the next backup of the same type to verify and reuse (or remove).
BackupJob::~BackupJob() = default;

void BackupJob::checkCancelled() const {
    if (cancelled_) raise(ErrorCode::Cancelled, "backup {} was cancelled", manifest_.label);
}

const std::string& BackupJob::begin(const std::string& type) {
    if (type != "full" && type != "diff" && type != "incr")
        raise(ErrorCode::Option, "invalid backup type '{}' (expected full, diff or incr)", type);
    storage::Storage& repo = *s_.repo;
    backupInfo_ = requireBackupInfo(repo, s_.layout);
    archiveInfo_ = requireArchiveInfo(repo, s_.layout);
    lock_ = std::make_unique<StanzaLock>(s_.lockPath, s_.layout.stanza, "backup", s_.lockWait);

    if (!s_.pgData)
        raise(ErrorCode::Assert, "backup of '{}': no storage for the data directory", s_.pgPath);
    auto control = pg::readControl(*s_.pgData);
    checkIdentity(backupInfo_.current(), control.version, control.systemId, s_.layout.stanza,
                  "backup");
    checkIdentity(archiveInfo_.current(), control.version, control.systemId, s_.layout.stanza,
                  "backup");
    manifest_.type = type;
    if (type != "full") {
        const BackupSummary* prior = nullptr;
        for (const auto& b : backupInfo_.backups)
            if (b.dbId == backupInfo_.current().id && (type == "incr" || b.type == "full"))
                prior = &b;
        if (!prior) {
            logWarn("backup: no prior backup for a {} backup of stanza '{}'; taking a full backup",
                    type, s_.layout.stanza);
            manifest_.type = "full";
        } else {
            prior_ = loadManifest(repo, s_.layout.manifest(prior->label), s_.layout.key);
            for (size_t i = 0; i < prior_->files.size(); i++)
                priorFiles_[prior_->files[i].name] = i;
            manifest_.prior = prior_->label;
        }
    }
    auto makeLabel = [&] {
        std::time_t now = std::time(nullptr);
        if (manifest_.type == "full") return fullLabel(now);
        return dependentLabel(prior_->label.substr(0, 16), now,
                              manifest_.type == "diff" ? 'D' : 'I');
    };
    manifest_.label = makeLabel();
    // A label is taken by a committed backup and by the directory of an interrupted one (which
    // may be resumed, and must never be confused with this backup).
    // Labels must sort in the order backups were taken ("latest" is the last label): a new
    // label's time must be later than every existing backup's, so two backups in one second
    // (an incr, then a diff: "…D" sorts before "…I") wait for the next second.
    std::string newest;
    for (const auto& b : backupInfo_.backups) newest = std::max(newest, labelTime(b.label));
    for (const auto& entry : repo.list(s_.layout.backupRoot()))
        if (isBackupLabel(entry.name)) newest = std::max(newest, labelTime(entry.name));
    auto taken = [&](const std::string& label) {
        return labelTime(label) <= newest || label == manifest_.prior ||
               repo.info(s_.layout.backupDir(label));
    };
    auto nextFreeLabel = [&] {
        while (taken(manifest_.label)) {  // same second
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
            manifest_.label = makeLabel();
        }
    };
    nextFreeLabel();
    manifest_.pgVersion = control.version;
    manifest_.systemId = control.systemId;
    manifest_.dbId = backupInfo_.current().id;
    manifest_.compressType = std::string(io::compressTypeName(s_.transfer.codec.compressType()));
    resume_ =
        takeResumable(repo, s_.layout, manifest_.type, manifest_.prior, manifest_.compressType);
    // After takeResumable, which would take the claimed directory for an interrupted backup.
    // A claim that is not alone was withdrawn: the other backup may have gone on with the label,
    // so this one takes a later one after a random pause (two that withdrew together part).
    std::minstd_rand jitter(std::random_device{}());
    for (int attempt = 1;; attempt++) {
        claim_ = std::make_unique<LabelClaim>(repo, s_.layout, manifest_.label);
        if (claim_->alone()) break;
        if (attempt == kLabelAttempts) claim_->raiseTaken(s_.layout, manifest_.label);
        logInfo(
            "backup {}: another backup claimed the label at the same moment ({}); taking a later "
            "label",
            manifest_.label, claim_->other());
        newest = std::max(newest, labelTime(manifest_.label));
        std::this_thread::sleep_for(std::chrono::milliseconds(100 + jitter() % 900));
        manifest_.label = makeLabel();
        nextFreeLabel();
    }
    manifest_.compressLevel = s_.transfer.codec.compressLevel();
    manifest_.backrestVersion = kVersion;
    return manifest_.label;
}

// A file is unchanged when its size and mtime equal the prior backup's record AND that mtime
// is older than the second in which the prior backup started: the copy was taken after the
// file's last change. A file written in the same second as (or after) the prior backup's start
// could have changed again without its whole-second mtime moving, so it is copied.
bool BackupJob::reusable(const ManifestFile& file, ManifestFile& from) const {
    if (!prior_) return false;
    auto it = priorFiles_.find(file.name);
    if (it == priorFiles_.end()) return false;
    const ManifestFile& p = prior_->files[it->second];
    if (p.size != file.size || p.mtime != file.mtime || p.mtime >= prior_->timestampStart)
        return false;
    from = p;
    return true;
}

// The prior version's map (where the prior backup, or the one it references, holds the file)
// decides which blocks changed. A map that cannot be used costs only space: every block is
// stored again and the new map depends on nothing damaged.
std::optional<StoredFile> BackupJob::storeAsBlocks(storage::Storage& pgData, ManifestFile& file,
                                                   uint32_t blockSize,
                                                   const TransferOptions& transfer,
                                                   io::Filter* observer) {
    std::optional<ResolvedBlockMap> priorMap;
    if (auto it = priorFiles_.find(file.name); prior_ && it != priorFiles_.end()) {
        const ManifestFile& p = prior_->files[it->second];
        std::string holder = p.reference.empty() ? prior_->label : p.reference;
        if (p.blockSize == blockSize) {
            try {
                priorMap = resolveBlockMap(*s_.repo, s_.layout, holder, file.name);
            } catch (const Error& e) {
                logWarn(
                    "backup {}: the block map of '{}' in backup {} cannot be used, so every block "
                    "of the file is "
                    "stored again: {}",
                    manifest_.label, file.name, holder, e.what());
            }
        }
    }
    auto stored = storeBlocks(pgData, dataDirectoryPath(file.name), *s_.repo,
                              {&s_.layout, manifest_.label, file.name}, blockSize,
                              priorMap ? &*priorMap : nullptr, transfer, observer);
    if (!stored) return std::nullopt;
    file.blockSize = blockSize;
    blockFiles_++;
    blocksStored_ += stored->blocksStored;
    blocksKept_ += stored->blocksKept;
    logDebug("backup {}: '{}' stored {} of {} blocks", manifest_.label, file.name,
             stored->blocksStored, stored->blocksStored + stored->blocksKept);
    return stored->file;
}

void BackupJob::copy(const BackupStart& start,
                     const std::function<void(const BackupProgress&)>& progress) {
    if (!lock_) raise(ErrorCode::Assert, "backup copy before begin");
    manifest_.lsnStart = start.lsn;
    manifest_.walStart = start.walFile;
    manifest_.timestampStart = start.timestamp;
    manifest_.walSegmentSize = start.walSegmentSize;
    manifest_.dataChecksums = start.dataChecksums;
    auto segment = pg::WalSegment::parse(start.walFile, start.walSegmentSize);
    if (!segment) raise(ErrorCode::Format, "backup: '{}' is not a WAL segment name", start.walFile);
    manifest_.timeline = segment->timeline;

    auto control = pg::readControl(*s_.pgData);
    uint64_t startLsn = pg::parseLsn(start.lsn);
    DataDirectory dir;
    dir.storage = s_.pgData.get();
    dir.path = s_.pgPath;
    dir.tablespaceNames = start.tablespaceNames;
    dir.tablespaceVersionDir = fmt::format("PG_{}_{}", control.version, control.catalogVersion);
    scanDataDirectory(dir, manifest_);

    // Largest files first so the threads finish together.
    auto& files = manifest_.files;
    std::vector<size_t> order;
    uint64_t referencedBytes = 0;
    for (size_t i = 0; i < files.size(); i++) {
        ManifestFile prior;
        if (!reusable(files[i], prior)) {
            order.push_back(i);
            continue;
        }
        files[i].checksum = prior.checksum;
        files[i].repoSize = prior.repoSize;
        files[i].reference = prior.reference.empty() ? prior_->label : prior.reference;
        files[i].blockSize = prior.blockSize;  // its map is in the referenced backup
        files[i].frameBytes = prior.frameBytes;
        files[i].frames = prior.frames;
        files[i].bundleId = prior.bundleId;  // in the referenced backup's bundle
        files[i].bundleOffset = prior.bundleOffset;
        files[i].pageChecked = prior.pageChecked;
        files[i].pageErrors = prior.pageErrors;
        referencedBytes += files[i].size;
    }
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return files[a].size > files[b].size; });
    // Small files (the end of the order) go into bundles, stored after the files stored alone.
    std::vector<size_t> alone, bundled;
    for (size_t index : order) {
        const auto& file = files[index];
        bool blockStored = s_.block && blockSizeFor(file.size) != 0;
        (s_.bundle.enabled && !blockStored && file.size <= s_.bundle.limit ? bundled : alone)
            .push_back(index);
    }
    const auto bundles = planBundles(files, bundled, s_.bundle);

    BackupProgress state;
    state.bytesTotal = manifest_.totalSize() - referencedBytes;
    state.filesTotal = order.size();
    std::mutex progressMutex;
    double lastReport = 0;
    std::vector<bool> vanished(files.size(), false);
    std::string ext(s_.transfer.codec.extension());
    journal_ = std::make_unique<ResumeJournal>(
        *s_.repo, s_.layout,
        ResumeHeader{manifest_.label, manifest_.type, manifest_.prior, manifest_.compressType,
                     start.timestamp});
    std::atomic<uint64_t> resumed{0};
    storage::AsyncCloser closer(2);  // fsync + rename overlap with compressing the next files
    TransferOptions transfer = s_.transfer;
    transfer.closer = &closer;
    transfer.cancel = &cancelled_;
    auto reportDone = [&](uint64_t bytes) {
        std::lock_guard lock(progressMutex);
        state.filesDone++;
        state.bytesDone += bytes;
        double now = monotonicSeconds();
        if (now - lastReport >= 0.5 || state.filesDone == state.filesTotal) {
            lastReport = now;
            progress(state);
        }
    };
    // Page checksums are validated as a relation file is copied (when the cluster has them).
    struct PageCheck {
        uint32_t segment = 0;
        std::optional<io::PageChecksumFilter> filter;
        io::Filter* observer() { return filter ? &*filter : nullptr; }
    };
    auto pageCheckFor = [&](const ManifestFile& file) {
        PageCheck check;
        if (manifest_.dataChecksums && io::isRelationFile(file.name, &check.segment))
            check.filter.emplace(check.segment, startLsn);
        return check;
    };
    // What a copy found goes into the file's manifest entry.
    auto record = [&](size_t index, const std::optional<StoredFile>& stored, PageCheck& pageCheck) {
        auto& file = files[index];
        if (stored && pageCheck.filter) {
            file.pageChecked = true;
            if (pageCheck.filter->failedCount() > 0)
                file.pageErrors =
                    recheckPages(s_.pgPath + "/" + dataDirectoryPath(file.name),
                                 pageCheck.filter->failedPages(), pageCheck.segment, startLsn);
            if (!file.pageErrors.empty())
                logWarn(
                    "backup {}: invalid page checksum in '{}': page{} {} (of {} pages checked); "
                    "the data "
                    "file is damaged on the database host",
                    manifest_.label, file.name, file.pageErrors.size() > 1 ? "s" : "",
                    fmt::join(file.pageErrors, ", "), pageCheck.filter->pagesChecked());
        }
        if (!stored) {
            logDetail("backup: {} was removed during the backup; skipped", file.name);
            vanished[index] = true;
        } else {
            file.size = stored->size;
            file.repoSize = stored->repoSize;
            file.checksum = stored->checksum;
            file.frameBytes = stored->frameBytes;
            file.frames = stored->frames;
            // Only files stored whole on their own are journaled and resumed.
            if (file.blockSize == 0 && file.bundleId == 0) journal_->add(file);
        }
        reportDone(stored ? stored->size : 0);
    };
    auto storeAlone = [&](size_t index) {
        auto& file = files[index];
        uint32_t blockSize = s_.block ? blockSizeFor(file.size) : 0;
        if (blockSize == 0 && resume_ &&
            resumeFile(*s_.repo, s_.layout, *resume_, manifest_.label, file,
                       s_.transfer.bufferSize)) {
            journal_->add(file);
            resumed++;
            reportDone(file.size);
            return;
        }
        PageCheck pageCheck = pageCheckFor(file);
        // A file larger than one thread's share of the backup would keep one thread compressing
        // while the others run out of files: zstd compresses it on threads of its own, and this
        // thread only reads and checksums it.
        TransferOptions options = transfer;
        options.sizeHint = file.size;
        if (s_.processMax > 1 && file.size >= kSharedCompressMinSize &&
            file.size * s_.processMax > state.bytesTotal)
            options.compressWorkers = static_cast<int>(s_.processMax);
        // Large files as independent frames, so that a restore shares them between its threads.
        // At process-max 1 the one compressing thread is a frame worker, so that reading and
        // checksumming overlap with compression (as `zstd -T1` overlaps its I/O with its one
        // compression thread).
        if (file.size > kFrameBytes) {
            options.frameBytes = kFrameBytes;
            if (s_.processMax == 1) options.compressWorkers = 1;
        }
        auto stored =
            blockSize ? storeAsBlocks(*s_.pgData, file, blockSize, options, pageCheck.observer())
                      : storeFile(*s_.pgData, dataDirectoryPath(file.name), *s_.repo,
                                  s_.layout.backupFile(manifest_.label, file.name, ext),
                                  backupFilePiece(s_.layout, manifest_.label, file.name), options,
                                  pageCheck.observer());
        record(index, stored, pageCheck);
    };
    // One bundle: its files appended one after another to one repository file, closed (made
    // durable) once, like any other file, by the closing threads.
    auto storeBundle = [&](uint64_t id, const std::vector<size_t>& members) {
        storage::WriteOptions write;
        write.syncPath = false;  // every directory is synced before the manifest is written
        auto out = s_.repo->openWrite(s_.layout.bundleFile(manifest_.label, id), write);
        uint64_t offset = 0;
        bool stored = false;
        for (size_t index : members) {
            checkCancelled();
            auto& file = files[index];
            PageCheck pageCheck = pageCheckFor(file);
            TransferOptions options = transfer;
            options.sizeHint = file.size;
            // Sealed as the file it is, not as the bundle: a member reads alone, and one moved
            // within or between bundles does not open.
            auto one = appendFile(*s_.pgData, dataDirectoryPath(file.name), *out,
                                  backupFilePiece(s_.layout, manifest_.label, file.name), options,
                                  pageCheck.observer());
            if (one) {
                file.bundleId = id;
                file.bundleOffset = offset;
                offset += one->repoSize;
                stored = true;
            }
            record(index, one, pageCheck);
        }
        if (stored) closer.close(std::move(out));  // else (every file vanished) it is discarded
    };
    runParallel(s_.processMax, alone.size() + bundles.size(), [&](size_t job) {
        checkCancelled();
        if (job < alone.size()) return storeAlone(alone[job]);
        size_t b = job - alone.size();
        storeBundle(b + 1, bundles[b]);
    });
    closer.finish();
    size_t kept = 0;
    for (size_t i = 0; i < files.size(); i++) {
        if (vanished[i]) continue;
        if (kept != i) files[kept] = std::move(files[i]);
        kept++;
    }
    files.resize(kept);
    if (blockFiles_ > 0)
        logInfo(
            "backup {}: {} files stored as blocks: {} blocks stored, {} unchanged blocks "
            "referenced",
            manifest_.label, blockFiles_.load(), blocksStored_.load(), blocksKept_.load());
    if (resume_) {
        logInfo(
            "backup {}: {} files taken from interrupted backup {} after verifying their checksums",
            manifest_.label, resumed.load(), resume_->header.label);
        s_.repo->removePath(s_.layout.backupDir(resume_->header.label), true);
        resume_.reset();
    }
}

const Manifest& BackupJob::finish(const BackupStop& stop) {
    checkCancelled();
    manifest_.lsnStop = stop.lsn;
    manifest_.walStop = stop.walFile;

    // PostgreSQL's backup_label and tablespace_map, stored like every other file.
    auto storeGenerated = [&](const std::string& name, const std::string& content) {
        auto stored =
            storeBytes(content, *s_.repo,
                       s_.layout.backupFile(manifest_.label, name, s_.transfer.codec.extension()),
                       backupFilePiece(s_.layout, manifest_.label, name), s_.transfer);
        ManifestFile file;
        file.name = name;
        file.size = stored.size;
        file.repoSize = stored.repoSize;
        file.checksum = stored.checksum;
        file.mtime = static_cast<int64_t>(std::time(nullptr));
        file.mode = 0600;
        file.user = manifest_.paths.front().user;  // the data directory's owner
        file.group = manifest_.paths.front().group;
        manifest_.files.push_back(std::move(file));
    };
    storeGenerated("pg_data/backup_label", stop.labelFile);
    if (!stop.tablespaceMap.empty()) storeGenerated("pg_data/tablespace_map", stop.tablespaceMap);

    // The backup is consistent only with the WAL from start to stop: it must be archived.
    if (s_.archiveCheck) {
        auto segments = pg::walRange(manifest_.timeline, pg::parseLsn(manifest_.lsnStart),
                                     pg::parseLsn(manifest_.lsnStop), manifest_.walSegmentSize);
        double deadline = monotonicSeconds() + s_.archiveTimeout;
        auto pause = std::chrono::milliseconds(10);
        for (const auto& segment : segments) {
            while (!findWal(*s_.repo, s_.layout, archiveInfo_.currentArchiveId(), segment)) {
                checkCancelled();
                if (monotonicSeconds() > deadline)
                    raise(ErrorCode::ArchiveTimeout,
                          "backup {}: WAL segment {} was not archived within archive-timeout ({} "
                          "s); check "
                          "archive_command / archive_library and the server log",
                          manifest_.label, segment, s_.archiveTimeout);
                // The archiver usually stores the stop segment within milliseconds: a short
                // first poll keeps the wait from rounding every backup up by 100 ms. Each poll
                // lists the archive (a request to an object store: a 10 ms poll was 100 LISTs a
                // second against the store the archiver was pushing to), so the pause doubles.
                std::this_thread::sleep_for(pause);
                pause = std::min(pause * 2, kArchivePollMax);
            }
        }
    }

    // Every directory entry durable (a posix repository; an object store's objects are durable
    // once written), then the manifest: only now does the backup exist.
    std::set<std::string> dirs;
    std::string ext(s_.transfer.codec.extension());
    for (const auto& f : manifest_.files) {
        if (!f.reference.empty()) continue;  // stored, and synced, by an earlier backup
        std::string path = storedLocation(s_.layout, manifest_.label, f, ext).path;
        dirs.insert(path.substr(0, path.rfind('/')));
    }
    storage::syncPaths(*s_.repo, {dirs.begin(), dirs.end()});
    checkCancelled();
    journal_->remove();
    manifest_.timestampStop = static_cast<int64_t>(std::time(nullptr));
    saveManifest(*s_.repo, s_.layout.manifest(manifest_.label), manifest_, s_.layout.key);
    committed_ = true;
    claim_->release();
    auto info = requireBackupInfo(*s_.repo, s_.layout);
    info.backups.push_back(BackupSummary::of(manifest_));
    saveBackupInfo(*s_.repo, s_.layout, info);
    return manifest_;
}

}  // namespace backrest::repo
