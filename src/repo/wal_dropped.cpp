// archive-push-queue-max's queue measure and drop records (repo/wal_dropped.h).
#include "repo/wal_dropped.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <tuple>

#include "common/log.h"
#include "pg/wal.h"
#include "repo/info.h"
#include "repo/wal_archive.h"
#include "storage/posix.h"

namespace backrest::repo {

namespace {
constexpr std::string_view kReady = ".ready";
constexpr std::string_view kPending = ".backrest-dropped";

// The position of a segment in the WAL, timeline left out: a gap on timeline 1 also stops a
// recovery that follows timeline 2 past the same point.
std::string_view position(const std::string& segment) {
    return std::string_view(segment).substr(8);
}
}  // namespace

uint64_t archiveQueueBytes(const std::vector<std::string>& statusFiles, uint64_t segmentSize) {
    uint64_t segments = 0;
    for (const auto& file : statusFiles) {
        if (!file.ends_with(kReady)) continue;
        std::string_view wal(file.data(), file.size() - kReady.size());
        if (pg::isWalSegmentName(wal) || pg::isPartialName(wal)) segments++;
    }
    return segments * segmentSize;
}

std::vector<std::string> archiveStatusFiles(const std::string& pgWal) {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(pgWal + "/archive_status", ec))
        names.push_back(entry.path().filename().string());
    return names;
}

std::string droppedRecordName(const std::string& archiveId, const std::string& segment) {
    return archiveId + "-" + segment;
}

std::optional<DroppedSegment> parseDroppedRecordName(const std::string& name) {
    auto dash = name.rfind('-');
    if (dash == std::string::npos || dash == 0) return std::nullopt;
    std::string archiveId = name.substr(0, dash), segment = name.substr(dash + 1);
    if (!pg::isWalSegmentName(segment) || archiveId.find('-') == std::string::npos)
        return std::nullopt;
    return DroppedSegment{archiveId, segment, ""};
}

std::string droppedDir(const Layout& layout) {
    return layout.archiveRoot() + "/dropped";
}

bool recordDropped(storage::Storage* repo, const Layout& layout, const std::string& pgWal,
                   const DroppedSegment& dropped) {
    if (repo && !dropped.archiveId.empty()) {
        std::string name = droppedRecordName(dropped.archiveId, dropped.segment);
        try {
            storage::writeAll(*repo, droppedDir(layout) + "/" + name, dropped.detail + "\n");
            return true;
        } catch (const std::exception& e) {
            logWarn(
                "archive-push: the record of dropped WAL segment {} could not be written to {} "
                "({}); it waits in {}/archive_status until a push can write it",
                dropped.segment, repo->fullPath(droppedDir(layout)), e.what(), pgWal);
        }
    }
    // The archive id travels in the content: the local name is the segment's, as PostgreSQL's
    // own status files.
    storage::PosixStorage status(pgWal + "/archive_status");
    storage::writeAll(status, dropped.segment + std::string(kPending),
                      dropped.archiveId + "\n" + dropped.detail + "\n");
    return false;
}

size_t flushDroppedRecords(storage::Storage& repo, const Layout& layout, const std::string& pgWal,
                           const std::string& currentArchiveId) {
    std::vector<std::string> pending;
    for (const auto& file : archiveStatusFiles(pgWal))
        if (file.ends_with(kPending) && !file.ends_with(".tmp")) pending.push_back(file);
    std::sort(pending.begin(), pending.end());
    storage::PosixStorage status(pgWal + "/archive_status");
    size_t carried = 0;
    for (const auto& file : pending) {
        std::string segment = file.substr(0, file.size() - kPending.size());
        auto text = storage::readAllIfExists(status, file);
        if (!text) continue;
        auto newline = text->find('\n');
        std::string archiveId = text->substr(0, newline);
        if (archiveId.empty()) archiveId = currentArchiveId;
        if (!pg::isWalSegmentName(segment) || newline == std::string::npos ||
            !parseDroppedRecordName(droppedRecordName(archiveId, segment))) {
            logWarn("archive-push: '{}/archive_status/{}' is not a drop record; left alone", pgWal,
                    file);
            continue;
        }
        try {
            storage::writeAll(repo,
                              droppedDir(layout) + "/" + droppedRecordName(archiveId, segment),
                              text->substr(newline + 1));
        } catch (const std::exception& e) {
            logDebug("archive-push: drop record {} still waits: {}", segment, e.what());
            break;  // the repository still refuses: the next push tries again
        }
        status.remove(file, false);
        carried++;
    }
    return carried;
}

std::vector<DroppedSegment> listDroppedPending(const std::string& pgWal,
                                               const std::string& currentArchiveId) {
    std::vector<DroppedSegment> out;
    storage::PosixStorage status(pgWal + "/archive_status");
    for (const auto& file : archiveStatusFiles(pgWal)) {
        if (!file.ends_with(kPending)) continue;
        std::string segment = file.substr(0, file.size() - kPending.size());
        auto text = storage::readAllIfExists(status, file);
        if (!text || !pg::isWalSegmentName(segment)) continue;
        std::string archiveId = text->substr(0, text->find('\n'));
        out.push_back({archiveId.empty() ? currentArchiveId : archiveId, segment, ""});
    }
    return mergeDropped(std::move(out), {});
}

std::vector<DroppedSegment> withoutArchived(storage::Storage& repo, const Layout& layout,
                                            std::vector<DroppedSegment> dropped) {
    std::map<std::string, std::vector<storage::FileInfo>> listed;  // WAL directory: its files
    std::erase_if(dropped, [&](const DroppedSegment& d) {
        if (!pg::isWalSegmentName(d.segment)) return false;
        std::string dir = layout.walDir(d.archiveId, d.segment);
        auto it = listed.find(dir);
        if (it == listed.end()) it = listed.emplace(dir, repo.list(dir)).first;
        return std::any_of(it->second.begin(), it->second.end(), [&](const storage::FileInfo& e) {
            return e.type == storage::FileType::File && isStoredWalCopy(e.name, d.segment);
        });
    });
    return dropped;
}

std::vector<DroppedSegment> mergeDropped(std::vector<DroppedSegment> a,
                                         const std::vector<DroppedSegment>& b) {
    a.insert(a.end(), b.begin(), b.end());
    auto key = [](const DroppedSegment& d) { return std::tie(d.archiveId, d.segment); };
    std::sort(a.begin(), a.end(),
              [&](const DroppedSegment& x, const DroppedSegment& y) { return key(x) < key(y); });
    a.erase(std::unique(
                a.begin(), a.end(),
                [&](const DroppedSegment& x, const DroppedSegment& y) { return key(x) == key(y); }),
            a.end());
    return a;
}

std::vector<DroppedSegment> listDropped(storage::Storage& repo, const Layout& layout) {
    std::vector<DroppedSegment> out;
    for (const auto& e : repo.list(droppedDir(layout)))
        if (e.type != storage::FileType::Path)
            if (auto d = parseDroppedRecordName(e.name)) out.push_back(*d);
    std::sort(out.begin(), out.end(), [](const DroppedSegment& a, const DroppedSegment& b) {
        return std::tie(a.archiveId, a.segment) < std::tie(b.archiveId, b.segment);
    });
    return out;
}

std::optional<BackupGap> backupGap(const std::vector<DroppedSegment>& dropped,
                                   const std::string& archiveId, const std::string& walStart,
                                   const std::string& walStop) {
    if (!pg::isWalSegmentName(walStart)) return std::nullopt;
    std::optional<BackupGap> first;
    for (const auto& d : dropped) {
        if (d.archiveId != archiveId || position(d.segment) < position(walStart)) continue;
        if (first && position(d.segment) >= position(first->firstDropped)) continue;
        bool inside = pg::isWalSegmentName(walStop) && position(d.segment) <= position(walStop);
        first = BackupGap{d.segment, inside};
    }
    return first;
}

std::optional<DroppedRange> droppedRange(const std::vector<DroppedSegment>& dropped,
                                         const std::string& archiveId) {
    DroppedRange range;
    for (const auto& d : dropped) {
        if (d.archiveId != archiveId) continue;
        if (range.count == 0 || position(d.segment) < position(range.first))
            range.first = d.segment;
        if (range.count == 0 || position(d.segment) > position(range.last)) range.last = d.segment;
        range.count++;
    }
    if (range.count == 0) return std::nullopt;
    return range;
}

std::string firstWholeBackup(const std::vector<DroppedSegment>& dropped,
                             const std::string& archiveId,
                             const std::vector<BackupSummary>& backups,
                             const std::vector<std::string>& backupArchiveIds) {
    auto range = droppedRange(dropped, archiveId);
    for (size_t i = 0; i < backups.size() && i < backupArchiveIds.size(); i++) {
        const auto& b = backups[i];
        if (backupArchiveIds[i] != archiveId || !pg::isWalSegmentName(b.walStart)) continue;
        if (!range || position(b.walStart) > position(range->last)) return b.label;
    }
    return "";
}

}  // namespace backrest::repo
