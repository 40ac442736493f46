// Shared locks on the backups (and WAL) a restore or verify reads; see worker/backup_readers.h.
#include "worker/backup_readers.h"

#include <algorithm>
#include <set>

#include "common/error.h"
#include "worker/context.h"

namespace backrest::cmd {

BackupReaders::BackupReaders(const Config& config, const repo::Layout& layout)
    : lockPath_(config.getString(opt::lockPath)), layout_(layout), owner_(lockOwner(config)) {
    repo::ensureLockDirectory(lockPath_, owner_);
}

void BackupReaders::holdArchive() {
    archive_ = repo::FileLock::acquire(repo::archiveReadLockFile(lockPath_, layout_.stanza),
                                       repo::FileLock::Mode::Shared, owner_);
}

bool BackupReaders::hold(const std::string& label, std::string* expirer) {
    if (held_.count(label)) return true;
    std::string file = repo::backupReadLockFile(lockPath_, layout_.stanza, label);
    auto lock = repo::FileLock::tryAcquire(file, repo::FileLock::Mode::Shared, owner_);
    if (!lock) {
        if (expirer) *expirer = repo::lockHolders(file);
        return false;
    }
    held_[label] = std::move(lock);
    return true;
}

std::vector<std::string> backupChain(const repo::BackupInfo& info, const std::string& label) {
    std::vector<std::string> chain;
    for (const auto* b = info.find(label);
         b && std::find(chain.begin(), chain.end(), b->label) == chain.end();
         b = b->prior.empty() ? nullptr : info.find(b->prior))
        chain.push_back(b->label);
    return chain;
}

std::string availableBackups(const repo::BackupInfo& info) {
    std::string out;
    for (const auto& b : info.backups) out += (out.empty() ? "" : ", ") + b.label;
    return out.empty() ? "none" : out;
}

repo::BackupInfo holdForRestore(BackupReaders& readers, storage::Storage& repo,
                                const repo::Layout& layout, const std::string& label) {
    auto before = repo::requireBackupInfo(repo, layout);
    for (const auto& held : backupChain(before, label)) {
        std::string expirer;
        if (readers.hold(held, &expirer)) continue;
        // What else could be restored: the backups whose chain does not go through this one.
        repo::BackupInfo others = before;
        std::erase_if(others.backups, [&](const repo::BackupSummary& b) {
            auto chain = backupChain(before, b.label);
            return std::find(chain.begin(), chain.end(), held) != chain.end();
        });
        raise(ErrorCode::BackupSet,
              "restore: backup {} is being expired ({}){}; restore another backup (available: {})",
              held, expirer, held == label ? "" : fmt::format(", and backup {} needs it", label),
              availableBackups(others));
    }
    // An expire that finished between our read and our locks has removed it.
    auto after = repo::requireBackupInfo(repo, layout);
    if (!after.find(label))
        raise(ErrorCode::BackupSet,
              "restore: backup {} was expired as this restore started; available: {}", label,
              availableBackups(after));
    return after;
}

repo::BackupInfo holdForVerify(BackupReaders& readers, storage::Storage& repo,
                               const repo::Layout& layout, const std::optional<std::string>& set,
                               std::vector<std::string>& warnings) {
    std::map<std::string, std::string> expiring;  // label -> its expirer
    std::set<std::string> tried;
    repo::BackupInfo info;
    for (bool more = true; more;) {
        more = false;
        info = repo::requireBackupInfo(repo, layout);
        std::vector<std::string> wanted;
        if (set)
            wanted = backupChain(info, *set);
        else
            for (const auto& b : info.backups) wanted.push_back(b.label);
        for (const auto& label : wanted) {
            if (!tried.insert(label).second) continue;
            more = true;
            std::string expirer;
            if (!readers.hold(label, &expirer)) expiring[label] = expirer;
        }
    }
    if (expiring.empty()) return info;
    // A backup whose chain is being expired cannot be read whole either.
    std::vector<repo::BackupSummary> kept;
    for (const auto& b : info.backups) {
        std::string gone;
        for (const auto& l : backupChain(info, b.label))
            if (expiring.count(l)) gone = l;
        if (gone.empty())
            kept.push_back(b);
        else if (gone == b.label)
            warnings.push_back(fmt::format("backup {} is being expired ({}): not verified", b.label,
                                           expiring[gone]));
        else
            warnings.push_back(fmt::format(
                "backup {} depends on backup {}, which is being expired ({}): not verified",
                b.label, gone, expiring[gone]));
    }
    info.backups = std::move(kept);
    return info;
}

}  // namespace backrest::cmd
