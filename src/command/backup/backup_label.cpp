// A new backup's label: later than every other, then claimed; see backup_label.h.
#include "command/backup/backup_label.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <random>
#include <thread>

#include "common/log.h"

namespace backrest::backup {

namespace {

// Attempts at a label two backups claimed at the same moment before giving up (LockError).
constexpr int kLabelAttempts = 5;

}  // namespace

BackupLabeler::BackupLabeler(storage::Storage& repo, const repo::Layout& layout,
                             const repo::BackupInfo& backupInfo, std::string type,
                             std::string prior)
    : repo_(repo),
      layout_(layout),
      backupInfo_(backupInfo),
      type_(std::move(type)),
      prior_(std::move(prior)) {}

std::string BackupLabeler::make() const {
    std::time_t now = std::time(nullptr);
    if (type_ == "full") return repo::fullLabel(now);
    return repo::dependentLabel(prior_.substr(0, 16), now, type_ == "diff" ? 'D' : 'I');
}

std::string BackupLabeler::labelAt(const std::string& stamp) const {
    if (type_ == "full") return stamp + "F";
    return prior_.substr(0, 16) + "_" + stamp + (type_ == "diff" ? "D" : "I");
}

bool BackupLabeler::taken(const std::string& label) const {
    return repo::labelTime(label) <= newest_ || repo::labelTime(label) < notBefore_ ||
           label == prior_ || repo_.info(layout_.backupDir(label));
}

void BackupLabeler::skipTaken(std::string& label) const {
    while (taken(label)) {  // same second
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        label = make();
    }
}

std::string BackupLabeler::firstFree(const std::string& notBefore) {
    notBefore_ = notBefore;
    std::string label = notBefore.empty() ? make() : labelAt(notBefore);
    for (const auto& b : backupInfo_.backups) newest_ = std::max(newest_, repo::labelTime(b.label));
    for (const auto& entry : repo_.list(layout_.backupRoot()))
        if (repo::isBackupLabel(entry.name))
            newest_ = std::max(newest_, repo::labelTime(entry.name));
    skipTaken(label);
    return label;
}

std::unique_ptr<repo::LabelClaim> BackupLabeler::claim(std::string& label) {
    std::minstd_rand jitter(std::random_device{}());
    for (int attempt = 1;; attempt++) {
        auto claim = std::make_unique<repo::LabelClaim>(repo_, layout_, label);
        if (claim->alone()) return claim;
        if (attempt == kLabelAttempts) claim->raiseTaken(layout_, label);
        logInfo(
            "backup {}: another backup claimed the label at the same moment ({}); taking a later "
            "label",
            label, claim->other());
        newest_ = std::max(newest_, repo::labelTime(label));
        std::this_thread::sleep_for(std::chrono::milliseconds(100 + jitter() % 900));
        label = make();
        skipTaken(label);
    }
}

}  // namespace backrest::backup
