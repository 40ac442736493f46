// The backup command's steps, in the order they run: lock and identity, prior backup and label,
// scan and parallel copy, label files, WAL wait, manifest.
#include "command/backup/backup_job.h"

#include <algorithm>
#include <ctime>
#include <set>

#include "command/backup/archive_wait.h"
#include "command/backup/backup_label.h"
#include "command/backup/file_copy.h"
#include "common/log.h"
#include "common/version.h"
#include "pg/wal.h"
#include "repo/backup_history.h"
#include "repo/backup_listing.h"
#include "repo/bundle.h"
#include "repo/manifest_build.h"
#include "repo/piece.h"

namespace backrest::backup {

BackupJob::BackupJob(BackupSettings settings) : s_(std::move(settings)) {}

// An uncommitted backup leaves no manifest: it does not exist. Its files and resume journal
// stay for the next backup of the same type to verify and reuse (or remove).
BackupJob::~BackupJob() = default;

const std::string& BackupJob::begin(const std::string& type) {
    open(type);
    return claimLabel({});
}

void BackupJob::open(const std::string& type) {
    auto control = backupInit(type);
    backupPrior(type);
    manifest_.pgVersion = control.version;
    manifest_.systemId = control.systemId;
    manifest_.dbId = backupInfo_.current().id;
    manifest_.compressType = std::string(io::compressTypeName(s_.transfer.codec.compressType()));
}

std::string BackupJob::freeLabelTime() {
    if (!lock_) raise(ErrorCode::Assert, "backup label before open");
    BackupLabeler labeler(*s_.repo, s_.layout, backupInfo_, manifest_.type, manifest_.prior);
    return repo::labelTime(labeler.firstFree());
}

const std::string& BackupJob::claimLabel(const std::string& notBefore) {
    if (!lock_) raise(ErrorCode::Assert, "backup label before open");
    backupLabel(notBefore);
    manifest_.compressLevel = s_.transfer.codec.compressLevel();
    manifest_.backrestVersion = kVersion;
    manifest_.annotations = s_.annotations;
    return manifest_.label;
}

void BackupJob::abandonBeforeCopy() noexcept {
    if (manifest_.label.empty() || !claim_) return;
    try {
        claim_->release();
        claim_.reset();
        s_.repo->removePath(s_.layout.backupDir(manifest_.label), true);
    } catch (const std::exception& e) {
        logWarn("backup {}: its directory is left for the next backup to remove ({})",
                manifest_.label, e.what());
    }
}

// The stanza's info files, its lock, and the cluster in pgPath checked to be the stanza's.
pg::ControlInfo BackupJob::backupInit(const std::string& type) {
    if (type != "full" && type != "diff" && type != "incr")
        raise(ErrorCode::Option, "invalid backup type '{}' (expected full, diff or incr)", type);
    backupInfo_ = repo::requireBackupInfo(*s_.repo, s_.layout);
    archiveInfo_ = repo::requireArchiveInfo(*s_.repo, s_.layout);
    lock_ = s_.heldLock
                ? s_.heldLock
                : std::make_shared<repo::StanzaLock>(s_.lockPath, s_.layout.stanza, "backup",
                                                     s_.lockWait, s_.lockWaitWhile);
    // A backup the list lost becomes a prior again; an entry whose directory is gone is not one.
    if (repo::reconcileBackupInfo(*s_.repo, s_.layout, backupInfo_))
        repo::saveBackupInfo(*s_.repo, s_.layout, backupInfo_);
    if (!s_.pgData)
        raise(ErrorCode::Assert, "backup of '{}': no storage for the data directory", s_.pgPath);
    auto control = pg::readControl(*s_.pgData);
    repo::checkIdentity(backupInfo_.current(), control.version, control.systemId, s_.layout.stanza,
                        "backup");
    repo::checkIdentity(archiveInfo_.current(), control.version, control.systemId, s_.layout.stanza,
                        "backup");
    return control;
}

// diff: the latest full backup; incr: the latest backup (of the current cluster); none: the
// backup becomes full, with a warning.
void BackupJob::backupPrior(const std::string& type) {
    manifest_.type = type;
    if (type == "full") return;
    const repo::BackupSummary* prior = nullptr;
    for (const auto& b : backupInfo_.backups)
        if (b.dbId == backupInfo_.current().id && (type == "incr" || b.type == "full")) prior = &b;
    if (!prior) {
        logWarn("backup: no prior backup for a {} backup of stanza '{}'; taking a full backup",
                type, s_.layout.stanza);
        manifest_.type = "full";
        return;
    }
    prior_.emplace(repo::loadManifest(*s_.repo, s_.layout.manifest(prior->label), s_.layout.key));
    manifest_.prior = prior_->manifest().label;
}

void BackupJob::backupLabel(const std::string& notBefore) {
    BackupLabeler labeler(*s_.repo, s_.layout, backupInfo_, manifest_.type, manifest_.prior);
    manifest_.label = labeler.firstFree(notBefore);
    resume_ = repo::takeResumable(*s_.repo, s_.layout, manifest_.type, manifest_.prior,
                                  manifest_.compressType);
    // After takeResumable, which would take the claimed directory for an interrupted backup.
    claim_ = labeler.claim(manifest_.label);
}

void BackupJob::copy(const BackupStart& start,
                     const std::function<void(const BackupProgress&)>& progress) {
    prepare(start);
    copyPlanned(progress);
}

void BackupJob::prepare(const BackupStart& start) {
    if (!lock_ || !claim_) raise(ErrorCode::Assert, "backup copy before begin");
    backupManifest(start);
    plan_ = planCopy(manifest_, prior_ ? &*prior_ : nullptr, {s_.block, s_.bundle});
    start_ = start;
}

std::vector<PlannedRead> BackupJob::plannedReads() const {
    std::vector<PlannedRead> reads;
    if (!plan_ || resume_) return reads;
    for (size_t index : plan_->alone) {
        const auto& file = manifest_.files[index];
        reads.push_back({repo::dataDirectoryPath(file.name), file.size, true});
    }
    for (const auto& bundle : plan_->bundles)
        for (size_t index : bundle) {
            const auto& file = manifest_.files[index];
            reads.push_back({repo::dataDirectoryPath(file.name), file.size, false});
        }
    return reads;
}

void BackupJob::copyPlanned(const std::function<void(const BackupProgress&)>& progress) {
    if (!plan_ || !start_) raise(ErrorCode::Assert, "backup copy before prepare");
    backupProcess(*plan_, start_->timestamp, progress);
    plan_.reset();
}

// The manifest of the data directory as pg_backup_start left it.
void BackupJob::backupManifest(const BackupStart& start) {
    manifest_.lsnStart = start.lsn;
    manifest_.walStart = start.walFile;
    manifest_.timestampStart = start.timestamp;
    manifest_.walSegmentSize = start.walSegmentSize;
    manifest_.dataChecksums = start.dataChecksums;
    manifest_.databases = start.databases;
    if (manifest_.databases)  // by name, as pgBackRest lists them
        std::sort(manifest_.databases->begin(), manifest_.databases->end(),
                  [](const auto& a, const auto& b) { return a.name < b.name; });
    auto segment = pg::WalSegment::parse(start.walFile, start.walSegmentSize);
    if (!segment) raise(ErrorCode::Format, "backup: '{}' is not a WAL segment name", start.walFile);
    manifest_.timeline = segment->timeline;

    auto control = pg::readControl(*s_.pgData);
    pg::parseLsn(start.lsn);  // a malformed LSN stops the backup before the scan
    repo::DataDirectory dir;
    dir.storage = s_.pgData.get();
    dir.path = s_.pgPath;
    dir.tablespaceNames = start.tablespaceNames;
    dir.tablespaceVersionDir = fmt::format("PG_{}_{}", control.version, control.catalogVersion);
    repo::scanDataDirectory(dir, manifest_);
}

// The files copied (or taken from an interrupted backup), under a resume journal.
void BackupJob::backupProcess(const CopyPlan& plan, int64_t startTimestamp,
                              const std::function<void(const BackupProgress&)>& progress) {
    journal_ = std::make_unique<repo::ResumeJournal>(
        *s_.repo, s_.layout,
        repo::ResumeHeader{manifest_.label, manifest_.type, manifest_.prior, manifest_.compressType,
                           startTimestamp});
    FileCopy copy(s_, manifest_, plan, prior_ ? &*prior_ : nullptr, resume_ ? &*resume_ : nullptr,
                  *journal_, cancelled_, progress);
    copy.run();
    const CopyStats& stats = copy.stats();
    if (stats.blockFiles > 0)
        logInfo(
            "backup {}: {} files stored as blocks: {} blocks stored, {} unchanged blocks "
            "referenced",
            manifest_.label, stats.blockFiles, stats.blocksStored, stats.blocksKept);
    if (resume_) {
        logInfo(
            "backup {}: {} files taken from interrupted backup {} after verifying their checksums",
            manifest_.label, stats.resumed, resume_->header.label);
        s_.repo->removePath(s_.layout.backupDir(resume_->header.label), true);
        resume_.reset();
    }
}

const repo::Manifest& BackupJob::finish(const BackupStop& stop) {
    checkCancelled();
    backupStopFiles(stop);
    if (s_.archiveCheck) backupArchiveCheck();
    backupComplete();
    return manifest_;
}

// PostgreSQL's backup_label and tablespace_map, stored like every other file.
void BackupJob::backupStopFiles(const BackupStop& stop) {
    manifest_.lsnStop = stop.lsn;
    manifest_.walStop = stop.walFile;
    storeGenerated("pg_data/backup_label", stop.labelFile);
    if (!stop.tablespaceMap.empty()) storeGenerated("pg_data/tablespace_map", stop.tablespaceMap);
}

void BackupJob::storeGenerated(const std::string& name, const std::string& content) {
    auto stored =
        repo::storeBytes(content, *s_.repo,
                         s_.layout.backupFile(manifest_.label, name, s_.transfer.codec.extension()),
                         repo::backupFilePiece(s_.layout, manifest_.label, name), s_.transfer);
    repo::ManifestFile file;
    file.name = name;
    file.size = stored.size;
    file.repoSize = stored.repoSize;
    file.checksum = stored.checksum;
    file.mtime = static_cast<int64_t>(std::time(nullptr));
    file.mode = 0600;
    file.user = manifest_.paths.front().user;  // the data directory's owner
    file.group = manifest_.paths.front().group;
    manifest_.files.push_back(std::move(file));
}

// The backup is consistent only with the WAL from start to stop: it must be archived.
void BackupJob::backupArchiveCheck() {
    waitForArchive(
        *s_.repo, s_.layout, manifest_,
        {archiveInfo_.currentArchiveId(), s_.archiveTimeout, [this] { checkCancelled(); }});
}

// Every directory entry durable (a posix repository; an object store's objects are durable
// once written), then the manifest: only now does the backup exist.
void BackupJob::backupComplete() {
    std::set<std::string> dirs;
    std::string ext(s_.transfer.codec.extension());
    for (const auto& f : manifest_.files) {
        if (!f.reference.empty()) continue;  // stored, and synced, by an earlier backup
        std::string path = repo::storedLocation(s_.layout, manifest_.label, f, ext).path;
        dirs.insert(path.substr(0, path.rfind('/')));
    }
    storage::syncPaths(*s_.repo, {dirs.begin(), dirs.end()});
    checkCancelled();
    journal_->remove();
    manifest_.timestampStop = static_cast<int64_t>(std::time(nullptr));
    repo::saveManifest(*s_.repo, s_.layout.manifest(manifest_.label), manifest_, s_.layout.key);
    committed_ = true;
    claim_->release();
    repo::listBackup(*s_.repo, s_.layout, repo::BackupSummary::of(manifest_));
    // Copied once the backup is listed, so the history holds only backups that completed.
    try {
        repo::saveHistoryManifest(*s_.repo, s_.layout, manifest_.label);
    } catch (const Error& e) {
        raise(e.code(),
              "backup {} is complete and listed by info, but its manifest's copy in "
              "backup.history/ could not be written: {}",
              manifest_.label, e.what());
    }
}

}  // namespace backrest::backup
