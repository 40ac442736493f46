// backup.info's list kept equal to the complete backups; see backup_listing.h.
#include "repo/backup_listing.h"

#include <algorithm>
#include <chrono>
#include <random>
#include <set>
#include <thread>

#include "common/error.h"
#include "common/log.h"
#include "io/compress.h"
#include "repo/bundle.h"

namespace backrest::repo {

namespace {

// Rewrites of backup.info by another command, each undoing ours, before giving up.
constexpr int kListAttempts = 5;

void putSummary(BackupInfo& info, const BackupSummary& summary) {
    std::erase_if(info.backups, [&](const auto& b) { return b.label == summary.label; });
    info.backups.push_back(summary);
    std::sort(info.backups.begin(), info.backups.end(),
              [](const auto& a, const auto& b) { return a.label < b.label; });
}

bool knownDatabase(const BackupInfo& info, int dbId) {
    return std::any_of(info.history.begin(), info.history.end(),
                       [&](const auto& db) { return db.id == dbId; });
}

// Why the backup in `label`'s directory cannot be listed, or "" when it can be.
std::string unlistable(storage::Storage& repo, const Layout& layout, const BackupInfo& info,
                       const std::string& label, const Manifest& m) {
    std::string extension(io::compressExtension(io::parseCompressType(m.compressType)));
    if (m.label != label) return fmt::format("its manifest is of backup {}", m.label);
    if (!knownDatabase(info, m.dbId))
        return fmt::format("its database (db-id {}) is not in the stanza's history", m.dbId);
    if (!m.prior.empty() && !info.find(m.prior))
        return fmt::format("its prior backup {} is not listed", m.prior);
    std::set<std::string> stored;
    for (const auto& f : m.files) {
        if (!f.reference.empty() && !info.find(f.reference))
            return fmt::format("the backup {} it refers to is not listed", f.reference);
        if (f.reference.empty()) stored.insert(storedLocation(layout, label, f, extension).path);
    }
    // A removal interrupted before it reached the manifest (expire removed it in directory order
    // until it removed it first) leaves a manifest over missing files: never list that.
    for (const auto& path : stored)
        if (!repo.info(path)) return fmt::format("its file '{}' is missing", repo.fullPath(path));
    return "";
}

}  // namespace

void listBackup(storage::Storage& repo, const Layout& layout, const BackupSummary& summary) {
    std::minstd_rand jitter(std::random_device{}());
    for (int attempt = 1;; attempt++) {
        auto info = requireBackupInfo(repo, layout);
        putSummary(info, summary);
        saveBackupInfo(repo, layout, info);
        if (requireBackupInfo(repo, layout).find(summary.label)) return;
        if (attempt == kListAttempts)
            raise(ErrorCode::Lock,
                  "backup {} is complete but another command kept rewriting '{}' without it ({} "
                  "times); the next backup or expire of stanza '{}' lists it again. Run the "
                  "backups of a stanza from one host (lock-path only locks one host)",
                  summary.label, repo.fullPath(layout.backupInfo()), kListAttempts, layout.stanza);
        logWarn(
            "backup {}: another command rewrote '{}' at the same moment, without this backup; "
            "listing it again",
            summary.label, repo.fullPath(layout.backupInfo()));
        std::this_thread::sleep_for(std::chrono::milliseconds(100 + jitter() % 900));
    }
}

bool reconcileBackupInfo(storage::Storage& repo, const Layout& layout, BackupInfo& info) {
    std::set<std::string> dirs;
    for (const auto& entry : repo.list(layout.backupRoot()))
        if (entry.type == storage::FileType::Path && isBackupLabel(entry.name))
            dirs.insert(entry.name);
    bool changed = false;
    // Labels sort by time, so a prior or a referenced backup is added before what depends on it.
    for (const auto& label : dirs) {
        if (info.find(label)) continue;
        std::string manifest = layout.manifest(label);
        if (!repo.info(manifest) && !repo.info(manifest + ".copy")) continue;  // incomplete
        std::string why;
        try {
            Manifest m = loadManifest(repo, manifest, layout.key);
            why = unlistable(repo, layout, info, label, m);
            if (why.empty()) {
                putSummary(info, BackupSummary::of(m));
                changed = true;
                logWarn(
                    "backup {} is complete in the repository but backup.info did not list it "
                    "(rewritten by another command at the same moment): listed again",
                    label);
                continue;
            }
        } catch (const Error& e) {
            why = e.what();
        }
        logWarn("backup {} has a manifest but backup.info does not list it, and it is left so: {}",
                label, why);
    }
    size_t before = info.backups.size();
    std::erase_if(info.backups, [&](const auto& b) {
        if (dirs.contains(b.label)) return false;
        logWarn(
            "backup {} is listed by backup.info but its directory '{}' is gone: no longer listed",
            b.label, repo.fullPath(layout.backupDir(b.label)));
        return true;
    });
    return changed || info.backups.size() != before;
}

}  // namespace backrest::repo
