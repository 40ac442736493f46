// verify's plan: what it reads back — backup.info and archive.info (and their copies), every
// backup's manifest, each file at the backup that stores it (once, however many backups refer to
// it) and every stored WAL file — with the problems found while planning.
#include <fmt/format.h>

#include "common/error.h"
#include "pg/wal.h"
#include "repo/bundle.h"
#include "repo/checksummed_json.h"
#include "repo/piece.h"
#include "repo/repo_cipher.h"
#include "worker/verify_stanza.h"
#include "worker/verify_wal.h"

namespace backrest::cmd {

namespace {

// Readers take the first good copy of <name>, <name>.copy and only log the other: verify reports
// a damaged, missing or diverging copy while one copy is good (with none, the loader raises).
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

}  // namespace

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

std::string StanzaVerify::archiveIdOf(int dbId) const {
    for (const auto& db : archiveInfo_.history)
        if (db.id == dbId) return repo::ArchiveInfo::archiveId(db);
    return {};
}

}  // namespace backrest::cmd
