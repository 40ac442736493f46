// verify: reads back everything a stanza stores — every file its backups hold and every archived
// WAL file — through the decompress/checksum chain restore uses, checks that each backup has the
// WAL it needs, and reports each problem by backup, file and segment. It modifies nothing.
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <unordered_map>

#include "common/error.h"
#include "common/parallel.h"
#include "io/buffer.h"
#include "io/compress.h"
#include "io/filter_chain.h"
#include "io/size.h"
#include "pg/wal.h"
#include "repo/block_transfer.h"
#include "repo/bundle.h"
#include "repo/checksummed_json.h"
#include "repo/info.h"
#include "repo/manifest.h"
#include "repo/piece.h"
#include "repo/repo_cipher.h"
#include "worker/backup_readers.h"
#include "worker/commands.h"
#include "worker/context.h"
#include "worker/verify_read.h"
#include "worker/verify_wal.h"

namespace backrest::cmd {

namespace {

using nlohmann::json;

// Copies are compared opened: sealing draws a fresh salt, so two sealed copies never match.
std::vector<std::string> copyWarnings(storage::Storage& repo, const std::string& path,
                                      const std::shared_ptr<const crypto::RepoKey>& key) {
    std::vector<std::string> bad, good;
    for (const std::string& candidate : {path, path + ".copy"}) {
        std::string where = repo.fullPath(candidate);
        try {
            auto text = storage::readAllIfExists(repo, candidate);
            if (!text) {
                bad.push_back(fmt::format("'{}' is missing", where));
                continue;
            }
            std::string opened = repo::openMetadata(key, path, std::move(*text), where);
            repo::parseChecksummed(opened, where);
            good.push_back(std::move(opened));
        } catch (const Error& e) {
            bad.push_back(e.what());
        }
    }
    std::vector<std::string> out;
    if (good.empty()) return out;
    for (const auto& b : bad) out.push_back(b + "; the other copy is good and is used");
    if (good.size() == 2 && good[0] != good[1])
        out.push_back(
            fmt::format("'{}' and its .copy differ (an interrupted save?); the first is used",
                        repo.fullPath(path)));
    return out;
}

struct BackupReport {
    std::string label;
    uint64_t files = 0, bytes = 0;  // of the whole backup, wherever each file is stored
    std::vector<std::string> errors, warnings;
};

struct LoadedManifest {
    std::optional<repo::Manifest> manifest;
    io::CompressType type = io::CompressType::None;
    std::string error;  // why it could not be loaded
    std::vector<std::string> warnings;
    std::unordered_map<std::string, size_t> byName;
};

class StanzaVerify {
  public:
    explicit StanzaVerify(const Config& config)
        : repo_(openRepo(config)),
          layout_(stanzaLayout(config)),
          readers_(config, layout_),
          set_(config.find(opt::set)),
          bufferSize_(transferOptions(config).bufferSize),
          processMax_(static_cast<size_t>(config.getInt(opt::processMax))) {}

    void run() {
        loadInfo();
        for (auto& r : backups_) planBackup(r);
        for (const auto& id : archiveIds_) scanArchive(id);
        std::vector<size_t> order(checks_.size());
        for (size_t i = 0; i < order.size(); i++) order[i] = i;
        std::sort(order.begin(), order.end(),
                  [&](size_t a, size_t b) { return checks_[a].order > checks_[b].order; });
        // A file stored as frames is read back frame by frame, one job per frame (largest files
        // first all the same, a file's frames in order).
        struct Job {
            size_t check;
            size_t frame;
            FramedReadBack* framed;
        };
        std::vector<Job> jobs;
        std::vector<std::unique_ptr<FramedReadBack>> framed;
        for (size_t i : order) {
            if (!FramedReadBack::applies(checks_[i])) {
                jobs.push_back({i, 0, nullptr});
                continue;
            }
            framed.push_back(std::make_unique<FramedReadBack>(*repo_, checks_[i]));
            for (size_t k = 0; k < framed.back()->frameCount(); k++)
                jobs.push_back({i, k, framed.back().get()});
        }
        runParallel(processMax_, jobs.size(), [&](size_t j) {
            const Job& job = jobs[j];
            ReadCheck& check = checks_[job.check];
            if (job.framed)
                job.framed->read(job.frame);
            else if (check.blockSize != 0)
                readBackBlocks(*repo_, layout_, check, bufferSize_);
            else
                readBack(*repo_, check, bufferSize_);
        });
        reportFiles();
        for (auto& r : backups_) checkWalNeeded(r);
        for (const auto& id : archiveIds_) reportGaps(id);
    }

    size_t problems() const {
        size_t n = errors_.size() + walErrors_.size();
        for (const auto& r : backups_) n += r.errors.size();
        return n;
    }
    const std::string& stanza() const { return layout_.stanza; }
    json toJson() const;
    void printText() const;

  private:
    void loadInfo();
    LoadedManifest& manifestOf(const std::string& label);
    std::shared_ptr<const repo::CompressByLabel> chainOf(const std::string& label);
    void planBackup(BackupReport& r);
    void checkManifestIdentity(BackupReport& r, const repo::Manifest& m);
    // Holders whose files cannot be checked, by label: not in backup.info (with a count), or
    // their manifest not loaded (with why).
    struct HolderProblems {
        std::map<std::string, size_t> missing;
        std::map<std::string, std::string> unloadable;
    };
    const repo::ManifestFile* storedEntry(BackupReport& r, const repo::ManifestFile& f,
                                          const std::string& holder, const LoadedManifest*& h,
                                          HolderProblems& problems);
    ReadCheck backupFileCheck(const std::string& holder, const repo::ManifestFile& f,
                              const repo::ManifestFile& stored, io::CompressType type);
    void scanArchive(const std::string& archiveId);
    void addArchived(const std::string& archiveId, const std::string& dir,
                     const storage::FileInfo& file);
    void reportFiles();
    void checkWalNeeded(BackupReport& r);
    void reportGaps(const std::string& archiveId);
    std::string archiveIdOf(int dbId) const {
        for (const auto& db : archiveInfo_.history)
            if (db.id == dbId) return repo::ArchiveInfo::archiveId(db);
        return {};
    }

    std::unique_ptr<storage::Storage> repo_;
    repo::Layout layout_;
    BackupReaders readers_;  // what verify reads stays until it is done (an expire keeps it)
    std::optional<std::string> set_;
    size_t bufferSize_, processMax_;
    repo::BackupInfo backupInfo_;
    repo::ArchiveInfo archiveInfo_;
    std::vector<std::string> archiveIds_;

    std::vector<std::string> errors_, warnings_;  // the stanza's own
    std::vector<BackupReport> backups_;
    std::map<std::string, LoadedManifest> manifests_;
    std::map<std::string, std::shared_ptr<const repo::CompressByLabel>> chains_;
    std::vector<ReadCheck> checks_;
    struct Use {
        size_t backup;  // index in backups_
        std::string name, holder;
    };
    std::map<std::string, size_t> fileChecks_;  // "<holder>/<name>" -> check
    std::vector<std::vector<Use>> uses_;  // per backup-file check: the backups that contain it
    size_t backupChecks_ = 0;
    uint64_t backupBytes_ = 0;
    std::map<std::string, std::map<std::string, size_t>>
        archived_;  // archive id -> WAL name -> check
    size_t walChecks_ = 0;
    std::vector<std::string> walErrors_, gaps_;
};

void StanzaVerify::loadInfo() {
    for (const auto& w : copyWarnings(*repo_, layout_.backupInfo(), layout_.key))
        warnings_.push_back(w);
    for (const auto& w : copyWarnings(*repo_, layout_.archiveInfo(), layout_.key))
        warnings_.push_back(w);
    readers_.holdArchive();
    backupInfo_ = holdForVerify(readers_, *repo_, layout_, set_, warnings_);
    archiveInfo_ = repo::requireArchiveInfo(*repo_, layout_);
    const auto &b = backupInfo_.current(), &a = archiveInfo_.current();
    if (b.id != a.id || b.version != a.version || b.systemId != a.systemId)
        errors_.push_back(
            fmt::format("backup.info (db-id {}, PostgreSQL {}, system identifier {}) and "
                        "archive.info (db-id {}, PostgreSQL {}, "
                        "system identifier {}) disagree on the cluster",
                        b.id, b.version, b.systemId, a.id, a.version, a.systemId));

    if (set_) {
        const auto* s = backupInfo_.find(*set_);
        if (!s) {
            std::string available;
            for (const auto& x : backupInfo_.backups)
                available += (available.empty() ? "" : ", ") + x.label;
            raise(ErrorCode::BackupSet,
                  "verify: backup set '{}' does not exist in stanza '{}' (available: {})", *set_,
                  layout_.stanza, available.empty() ? "none" : available);
        }
        backups_.push_back({s->label, 0, 0, {}, {}});
        if (auto id = archiveIdOf(s->dbId); !id.empty()) archiveIds_.push_back(id);
        return;
    }
    for (const auto& s : backupInfo_.backups) backups_.push_back({s.label, 0, 0, {}, {}});
    for (const auto& db : archiveInfo_.history)
        archiveIds_.push_back(repo::ArchiveInfo::archiveId(db));
    // Backup directories backup.info does not list: invisible to info and restore.
    for (const auto& e : repo_->list(layout_.backupRoot())) {
        if (e.type != storage::FileType::Path || !repo::isBackupLabel(e.name) ||
            backupInfo_.find(e.name))
            continue;
        if (repo_->info(layout_.manifest(e.name)) ||
            repo_->info(layout_.manifest(e.name) + ".copy"))
            warnings_.push_back(fmt::format(
                "backup directory {} has a manifest but is not in backup.info: info and "
                "restore do not see it",
                e.name));
        else
            warnings_.push_back(
                fmt::format("backup directory {} has no manifest: a backup in progress or an "
                            "interrupted one (the next backup removes it)",
                            e.name));
    }
}

LoadedManifest& StanzaVerify::manifestOf(const std::string& label) {
    auto [it, inserted] = manifests_.try_emplace(label);
    LoadedManifest& l = it->second;
    if (!inserted) return l;
    std::string path = layout_.manifest(label);
    l.warnings = copyWarnings(*repo_, path, layout_.key);
    try {
        auto m = repo::loadManifest(*repo_, path, layout_.key);
        l.type = io::parseCompressType(m.compressType);
        for (size_t i = 0; i < m.files.size(); i++) l.byName[m.files[i].name] = i;
        l.manifest = std::move(m);
    } catch (const Error& e) {
        l.error = e.what();
    }
    return l;
}

// The compression of `label` and of every backup before it in its chain (a block-stored
// file's blocks are in those); a backup whose manifest cannot be loaded is left out, and a map
// that names it is reported.
std::shared_ptr<const repo::CompressByLabel> StanzaVerify::chainOf(const std::string& label) {
    auto& chain = chains_[label];
    if (chain) return chain;
    auto types = std::make_shared<repo::CompressByLabel>();
    for (std::string at = label; !at.empty() && !types->count(at);) {
        const LoadedManifest& l = manifestOf(at);
        if (!l.manifest) break;
        (*types)[at] = l.type;
        at = l.manifest->prior;
    }
    return chain = types;
}

// What a manifest says about itself that backup.info must agree with: its label, its cluster
// and its prior backup.
void StanzaVerify::checkManifestIdentity(BackupReport& r, const repo::Manifest& m) {
    if (m.label != r.label)
        r.errors.push_back(fmt::format("manifest '{}' is labelled {}",
                                       repo_->fullPath(layout_.manifest(r.label)), m.label));
    bool known = false;
    for (const auto& db : backupInfo_.history)
        known =
            known || (db.id == m.dbId && db.version == m.pgVersion && db.systemId == m.systemId);
    if (!known)
        r.errors.push_back(fmt::format(
            "manifest records PostgreSQL {} with system identifier {} (db-id {}), which "
            "backup.info does not list",
            m.pgVersion, m.systemId, m.dbId));
    if (!m.prior.empty() && !backupInfo_.find(m.prior))
        r.errors.push_back(
            fmt::format("its prior backup {} is not listed in backup.info", m.prior));
}

// The entry of `f` in the manifest of `holder`, the backup that stores it (`f` itself when that
// is this backup), with that manifest in *h. nullptr when it cannot be checked: the holder is
// not listed or its manifest not loaded (counted, reported once per holder), or it does not
// store the file (an error). Errors for a stored entry that disagrees with `f`.
const repo::ManifestFile* StanzaVerify::storedEntry(BackupReport& r, const repo::ManifestFile& f,
                                                    const std::string& holder,
                                                    const LoadedManifest*& h,
                                                    HolderProblems& problems) {
    if (holder == r.label) return &f;
    if (!backupInfo_.find(holder)) {
        problems.missing[holder]++;
        return nullptr;
    }
    h = &manifestOf(holder);
    if (!h->manifest) {
        problems.unloadable[holder] = h->error;
        return nullptr;
    }
    auto at = h->byName.find(f.name);
    if (at == h->byName.end() || !h->manifest->files[at->second].reference.empty()) {
        r.errors.push_back(
            fmt::format("file '{}' references backup {}, which does not store it", f.name, holder));
        return nullptr;
    }
    const repo::ManifestFile* stored = &h->manifest->files[at->second];
    if (stored->size != f.size || stored->checksum != f.checksum)
        r.errors.push_back(
            fmt::format("file '{}': this manifest records {} bytes with checksum {}, backup {} "
                        "stores {} bytes with checksum {}",
                        f.name, f.size, f.checksum, holder, stored->size, stored->checksum));
    if (stored->blockSize != f.blockSize)
        r.errors.push_back(
            fmt::format("file '{}': this manifest records block size {}, backup {} stores it "
                        "with block size {}",
                        f.name, f.blockSize, holder, stored->blockSize));
    return stored;
}

// The read of one stored backup file, as restore would read it.
ReadCheck StanzaVerify::backupFileCheck(const std::string& holder, const repo::ManifestFile& f,
                                        const repo::ManifestFile& stored, io::CompressType type) {
    ReadCheck c;
    auto location = repo::storedLocation(layout_, holder, stored, io::compressExtension(type));
    c.path = location.path;
    c.range = location.range;
    c.type = type;
    c.piece = repo::backupFilePiece(layout_, holder, f.name);
    c.key = layout_.key;
    c.checksum = stored.checksum;
    c.size = stored.size;
    c.storedSize = stored.repoSize;
    c.order = stored.repoSize;
    c.name = f.name;
    c.holder = holder;
    c.frameBytes = stored.frameBytes;
    c.frames = stored.frames;
    if (stored.blockSize != 0) {
        c.path = repo::blockMapPath(layout_, holder, f.name);
        c.blockSize = stored.blockSize;
        c.name = f.name;
        c.holder = holder;
        c.chain = chainOf(holder);
    }
    return c;
}

// Plans a read of every file the backup contains, at the backup that stores it (once per file).
void StanzaVerify::planBackup(BackupReport& r) {
    size_t self = static_cast<size_t>(&r - backups_.data());
    LoadedManifest& l = manifestOf(r.label);
    r.warnings = l.warnings;
    if (!l.manifest) {
        r.errors.push_back(fmt::format("manifest cannot be loaded: {}", l.error));
        return;
    }
    const repo::Manifest& m = *l.manifest;
    checkManifestIdentity(r, m);
    r.files = m.files.size();
    r.bytes = m.totalSize();

    HolderProblems problems;
    for (const auto& f : m.files) {
        std::string holder = f.reference.empty() ? r.label : f.reference;
        const LoadedManifest* h = &l;
        const repo::ManifestFile* stored = storedEntry(r, f, holder, h, problems);
        if (!stored) continue;
        auto [it, added] = fileChecks_.try_emplace(holder + "/" + f.name, checks_.size());
        if (added) {
            checks_.push_back(backupFileCheck(holder, f, *stored, h->type));
            uses_.emplace_back();
            backupChecks_++;
            backupBytes_ += stored->size;
        }
        uses_[it->second].push_back({self, f.name, holder});
    }
    for (const auto& [holder, count] : problems.missing)
        r.errors.push_back(
            fmt::format("{} file{} stored in backup {}, which backup.info does not list", count,
                        count > 1 ? "s are" : " is", holder));
    for (const auto& [holder, error] : problems.unloadable)
        r.errors.push_back(fmt::format(
            "files stored in backup {} cannot be checked: its manifest cannot be loaded: {}",
            holder, error));
}

void StanzaVerify::scanArchive(const std::string& archiveId) {
    std::string root = layout_.archiveIdDir(archiveId);
    for (const auto& e : repo_->list(root)) {
        if (e.type == storage::FileType::Path && e.name.size() == 16 &&
            pg::isWalSegmentName(e.name + "00000000")) {
            for (const auto& f : repo_->list(root + "/" + e.name))
                addArchived(archiveId, e.name, f);
        } else if (e.type == storage::FileType::File) {
            addArchived(archiveId, "", e);
        } else {
            warnings_.push_back(fmt::format("archive {}: unexpected entry '{}/{}' is ignored",
                                            archiveId, repo_->fullPath(root), e.name));
        }
    }
}

// One stored WAL file, "<wal name>-<sha256>[.zst]", in the directory its name puts it in.
void StanzaVerify::addArchived(const std::string& archiveId, const std::string& dir,
                               const storage::FileInfo& file) {
    if (file.name.ends_with(".tmp")) return;  // an incomplete write, never a stored file
    std::string path =
        layout_.archiveIdDir(archiveId) + (dir.empty() ? "" : "/" + dir) + "/" + file.name;
    if (file.name.find(".bad-") != std::string::npos) {  // repo/wal_stored_copy.h
        warnings_.push_back(fmt::format(
            "archive {}: '{}' is a bad copy archive-push set aside when it stored a good "
            "one; remove it once it is of no more interest",
            archiveId, repo_->fullPath(path)));
        return;
    }
    auto stored = parseStoredWalName(file.name);
    if (file.type != storage::FileType::File || !stored) {
        warnings_.push_back(fmt::format("archive {}: unexpected file '{}' is ignored", archiveId,
                                        repo_->fullPath(path)));
        return;
    }
    const std::string& walName = stored->walName;
    const bool segmentLike = stored->segmentLike;
    if (dir != (segmentLike ? walName.substr(0, 16) : "")) {
        walErrors_.push_back(fmt::format(
            "archive {}: WAL file {} is in the wrong directory ('{}'), where archive-get "
            "does not look",
            archiveId, walName, repo_->fullPath(path)));
        return;
    }
    // --set: only the WAL a restore of that backup can use, from its wal-start on.
    if (set_ && segmentLike) {
        const auto* s = backupInfo_.find(*set_);
        if (walName.substr(0, 8) < s->walStart.substr(0, 8) ||
            walName.substr(8, 16) < s->walStart.substr(8, 16))
            return;
    }
    auto [it, added] = archived_[archiveId].try_emplace(walName, checks_.size());
    if (!added) {
        walErrors_.push_back(fmt::format(
            "archive {}: WAL file {} is stored twice ('{}' and '{}'); archive-get refuses "
            "it until the wrong one is removed",
            archiveId, walName, repo_->fullPath(checks_[it->second].path), repo_->fullPath(path)));
        return;
    }
    ReadCheck c;
    c.path = path;
    c.type = stored->type;
    c.piece = repo::walPiece(path);
    c.key = layout_.key;
    c.checksum = stored->sha;
    c.order = file.size;
    c.walSegment = pg::isWalSegmentName(walName);
    checks_.push_back(std::move(c));
    walChecks_++;
}

void StanzaVerify::reportFiles() {
    for (size_t i = 0; i < uses_.size(); i++) {
        if (checks_[i].problem.empty()) continue;
        for (const auto& u : uses_[i]) {
            BackupReport& r = backups_[u.backup];
            r.errors.push_back(u.holder == r.label
                                   ? fmt::format("file '{}' {}", u.name, checks_[i].problem)
                                   : fmt::format("file '{}' (stored in backup {}) {}", u.name,
                                                 u.holder, checks_[i].problem));
        }
    }
    for (const auto& [id, files] : archived_)
        for (const auto& [walName, check] : files)
            if (!checks_[check].problem.empty())
                walErrors_.push_back(
                    fmt::format("archive {}: WAL file {} {}", id, walName, checks_[check].problem));
}

// Every segment from the one holding lsn-start to the one holding lsn-stop must be archived and
// whole.
void StanzaVerify::checkWalNeeded(BackupReport& r) {
    const LoadedManifest& l = manifests_.at(r.label);
    if (!l.manifest) return;
    const repo::Manifest& m = *l.manifest;
    std::string id = archiveIdOf(m.dbId);
    if (id.empty()) {
        r.errors.push_back(
            fmt::format("its db-id {} is not in archive.info: its WAL cannot be found", m.dbId));
        return;
    }
    if (!validSegmentSize(m.walSegmentSize)) {
        r.errors.push_back(
            fmt::format("manifest records an invalid wal-segment-size {}", m.walSegmentSize));
        return;
    }
    std::vector<std::string> segments;
    try {
        segments = pg::walRange(m.timeline, pg::parseLsn(m.lsnStart), pg::parseLsn(m.lsnStop),
                                m.walSegmentSize);
    } catch (const Error& e) {
        r.errors.push_back(fmt::format("its WAL range cannot be computed: {}", e.what()));
        return;
    }
    if (segments.empty()) {
        r.errors.push_back(
            fmt::format("manifest records lsn-stop {} before lsn-start {}", m.lsnStop, m.lsnStart));
        return;
    }
    const auto& files = archived_[id];
    for (const auto& segment : segments) {
        auto it = files.find(segment);
        if (it == files.end())
            r.errors.push_back(fmt::format(
                "WAL segment {} is missing from archive {} (the backup needs {} to {} to be "
                "consistent)",
                segment, id, segments.front(), segments.back()));
        else if (!checks_[it->second].problem.empty())
            r.errors.push_back(fmt::format(
                "WAL segment {}, which the backup needs, is damaged in archive {}", segment, id));
    }
}

// From the oldest backup's wal-start on, every timeline's segments should follow one another:
// point-in-time recovery cannot cross a hole. A hole is a warning (the backups themselves may
// be whole); the end of the archive cannot be judged without the cluster.
void StanzaVerify::reportGaps(const std::string& archiveId) {
    const repo::Manifest* oldest = nullptr;
    for (const auto& r : backups_) {
        const auto& l = manifests_.at(r.label);
        if (l.manifest && archiveIdOf(l.manifest->dbId) == archiveId &&
            validSegmentSize(l.manifest->walSegmentSize)) {
            oldest = &*l.manifest;
            break;
        }
    }
    if (!oldest) return;
    std::vector<std::string> walNames;
    for (const auto& [walName, check] : archived_[archiveId]) walNames.push_back(walName);
    for (auto& gap : walGaps(walNames, oldest->walStart, oldest->walSegmentSize, archiveId))
        gaps_.push_back(std::move(gap));
}

json StanzaVerify::toJson() const {
    json backups = json::array();
    for (const auto& r : backups_)
        backups.push_back({{"label", r.label},
                           {"files", r.files},
                           {"bytes", r.bytes},
                           {"errors", r.errors},
                           {"warnings", r.warnings}});
    return {{"stanza", layout_.stanza},
            {"backups", backups},
            {"archive", {{"files", walChecks_}, {"errors", walErrors_}, {"gaps", gaps_}}},
            {"errors", errors_},
            {"warnings", warnings_},
            {"files", backupChecks_},
            {"bytes", backupBytes_},
            {"problems", problems()}};
}

void StanzaVerify::printText() const {
    size_t warnings = warnings_.size() + gaps_.size();
    for (const auto& e : errors_) fmt::print("stanza {}: {}\n", layout_.stanza, e);
    for (const auto& w : warnings_) fmt::print("warning: {}\n", w);
    for (const auto& r : backups_) {
        for (const auto& e : r.errors) fmt::print("backup {}: {}\n", r.label, e);
        for (const auto& w : r.warnings) fmt::print("warning: backup {}: {}\n", r.label, w);
        warnings += r.warnings.size();
    }
    for (const auto& e : walErrors_) fmt::print("{}\n", e);
    for (const auto& g : gaps_) fmt::print("warning: {}\n", g);
    size_t n = problems();
    fmt::print(
        "verify: {} backup{} ({} files, {:.1f} MiB), {} WAL file{} checked: {} problem{}{}\n",
        backups_.size(), backups_.size() == 1 ? "" : "s", backupChecks_,
        static_cast<double>(backupBytes_) / (1024.0 * 1024.0), walChecks_,
        walChecks_ == 1 ? "" : "s", n, n == 1 ? "" : "s",
        warnings ? fmt::format(", {} warning{}", warnings, warnings == 1 ? "" : "s") : "");
}

}  // namespace

int verify(const Config& config) {
    if (!config.params().empty())
        raise(ErrorCode::Command,
              "verify takes no parameters, got '{}'; use --set=LABEL to verify one backup",
              config.params().front());
    StanzaVerify verify(config);
    verify.run();
    if (config.getString(opt::output) == "json")
        fmt::print("{}\n", verify.toJson().dump());
    else
        verify.printText();
    std::fflush(stdout);
    if (size_t n = verify.problems())
        raise(ErrorCode::Checksum, "verify: {} problem{} found in stanza '{}'", n,
              n == 1 ? "" : "s", verify.stanza());
    return 0;
}

}  // namespace backrest::cmd
