// verify's report: what the reads found, by backup (each backup that contains a file) and by
// archive; the WAL each backup needs and the holes in the archive; the text and JSON forms.
#include <fmt/format.h>

#include "common/error.h"
#include "pg/wal.h"
#include "repo/wal_dropped.h"
#include "worker/verify_stanza.h"
#include "worker/verify_wal.h"

namespace backrest::cmd {

using nlohmann::json;

size_t StanzaVerify::problems() const {
    size_t n = errors_.size() + walErrors_.size();
    for (const auto& r : backups_) n += r.errors.size();
    return n;
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
    // A gap archive-push-queue-max made is said so: the records name each dropped segment. The
    // gap reads "WAL gap: <first>[ to <last>] missing in archive …".
    auto dropped = repo::listDropped(*repo_, layout_);
    constexpr size_t kFirst = std::string_view("WAL gap: ").size();
    for (auto& gap : walGaps(walNames, oldest->walStart, oldest->walSegmentSize, archiveId)) {
        std::string first = gap.substr(kFirst, 24);
        std::string last = gap.substr(gap.find(" missing") - 24, 24);
        size_t recorded = 0;
        for (const auto& d : dropped)
            if (d.archiveId == archiveId && d.segment >= first && d.segment <= last) recorded++;
        if (recorded > 0)
            gap += fmt::format(
                " ({} of its segments dropped by archive-push-queue-max, recorded "
                "in {})",
                recorded, repo_->fullPath(repo::droppedDir(layout_)));
        gaps_.push_back(std::move(gap));
    }
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

}  // namespace backrest::cmd
