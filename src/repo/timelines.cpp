// Timelines of an archive id, side branches, and which timeline a restore follows.
#include "repo/timelines.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "common/error.h"
#include "io/filter_chain.h"
#include "pg/wal.h"
#include "repo/codec.h"
#include "repo/piece.h"
#include "repo/wal_stored_copy.h"

namespace backrest::repo {

namespace {

uint32_t hex32(std::string_view s) {
    return static_cast<uint32_t>(std::stoul(std::string(s), nullptr, 16));
}

}  // namespace

bool ArchiveTimelines::archivedPastBranch(const ArchivedTimeline& child) const {
    if (!child.branch) return false;
    auto parent = timelines.find(child.branch->parent);
    if (parent == timelines.end() || parent->second.lastSegment.empty()) return false;
    if (segmentSize == 0)
        raise(ErrorCode::Assert, "the WAL segment size of the archive was not set");
    // The last segment with WAL before the branch point: any later one holds only WAL after it.
    uint64_t lsn = child.branch->switchLsn == 0 ? 0 : child.branch->switchLsn - 1;
    auto last =
        pg::WalSegment::containing(child.branch->parent, lsn, segmentSize).name(segmentSize);
    return parent->second.lastSegment > last;
}

std::vector<uint32_t> ArchiveTimelines::children(uint32_t parent) const {
    std::vector<uint32_t> out;
    for (const auto& [id, t] : timelines)
        if (t.branch && t.branch->parent == parent) out.push_back(id);
    return out;
}

int64_t ArchiveTimelines::newestTime(uint32_t timeline) const {
    auto it = timelines.find(timeline);
    if (it == timelines.end()) return 0;
    int64_t newest = std::max(it->second.historyTime, it->second.lastSegmentTime);
    for (uint32_t child : children(timeline))
        if (child > timeline) newest = std::max(newest, newestTime(child));  // ids grow: no cycle
    return newest;
}

namespace {

// A stored history file's text: history files are stored uncompressed, sealed (as their path
// without extension, repo/piece.h) in an encrypted repository.
std::string readHistory(storage::Storage& repo, const Layout& layout, const std::string& path) {
    std::string stored = readAll(repo, path);
    if (!layout.key) return stored;
    std::string text;
    io::FilterChain chain(
        [&](std::span<const uint8_t> bytes) { text.append(bytes.begin(), bytes.end()); });
    RepoCodec().withKey(layout.key).pushDecode(chain, walPiece(path), repo.fullPath(path));
    chain.write({reinterpret_cast<const uint8_t*>(stored.data()), stored.size()});
    chain.finish();
    return text;
}

}  // namespace

ArchiveTimelines loadArchiveTimelines(storage::Storage& repo, const Layout& layout,
                                      const std::string& archiveId) {
    ArchiveTimelines out;
    std::string root = layout.archiveIdDir(archiveId);
    std::map<uint32_t, std::vector<std::string>> directories;  // per timeline, in name order
    for (const auto& e : repo.list(root)) {
        if (e.type == storage::FileType::Path && e.name.size() == 16 &&
            pg::isWalSegmentName(e.name + "00000000")) {
            directories[hex32(e.name.substr(0, 8))].push_back(e.name);
        } else if (e.type == storage::FileType::File && e.name.size() > 17 && e.name[16] == '-' &&
                   pg::isHistoryFileName(e.name.substr(0, 16)) && !e.name.ends_with(".tmp") &&
                   !isSetAsideName(e.name)) {
            uint32_t id = hex32(e.name.substr(0, 8));
            auto history = parseTimelineHistory(readHistory(repo, layout, root + "/" + e.name),
                                                repo.fullPath(root + "/" + e.name));
            auto& t = out.timelines[id];
            t.id = id;
            if (!history.empty()) t.branch = history.back();
            t.historyTime = e.mtime;
        }
    }
    for (auto& [id, dirs] : directories) {
        std::sort(dirs.begin(), dirs.end());
        auto& t = out.timelines[id];
        t.id = id;
        // The newest directory that holds a complete segment (expire or a stream may leave one
        // empty).
        for (auto dir = dirs.rbegin(); dir != dirs.rend() && t.lastSegment.empty(); ++dir)
            for (const auto& e : repo.list(root + "/" + *dir)) {
                if (e.type != storage::FileType::File || e.name.size() <= 25 || e.name[24] != '-' ||
                    !pg::isWalSegmentName(e.name.substr(0, 24)) || e.name.ends_with(".tmp") ||
                    isSetAsideName(e.name))
                    continue;  // .partial, .backup, streams in progress
                t.lastSegment = std::max(t.lastSegment, e.name.substr(0, 24));
                t.lastSegmentTime = std::max(t.lastSegmentTime, e.mtime);
            }
    }
    return out;
}

std::vector<SideBranch> sideBranches(const ArchiveTimelines& archive) {
    std::vector<SideBranch> out;
    for (const auto& [id, t] : archive.timelines)
        if (archive.archivedPastBranch(t))
            out.push_back({id, t.branch->parent, t.branch->switchLsn,
                           archive.timelines.at(t.branch->parent).lastSegment, t.lastSegment});
    return out;
}

TimelineChoice chooseTimeline(const ArchiveTimelines& archive, uint32_t backupTimeline,
                              uint64_t backupStopLsn, std::optional<uint64_t> targetLsn) {
    TimelineChoice choice;
    // PostgreSQL's 'latest': the history files after the backup's timeline, probed one by one.
    choice.latest = backupTimeline;
    while (archive.timelines.count(choice.latest + 1) &&
           archive.timelines.at(choice.latest + 1).branch)
        choice.latest++;

    uint32_t current = backupTimeline;
    for (;;) {
        std::vector<uint32_t> candidates;
        for (uint32_t child : archive.children(current)) {
            uint64_t branch = archive.timelines.at(child).branch->switchLsn;
            if (child > current && branch >= backupStopLsn && (!targetLsn || branch <= *targetLsn))
                candidates.push_back(child);
        }
        if (candidates.empty()) break;
        // The most recently archived first; equal times: the higher timeline, as PostgreSQL.
        auto newer = [&](uint32_t a, uint32_t b) {
            int64_t ta = archive.newestTime(a), tb = archive.newestTime(b);
            return ta != tb ? ta > tb : a > b;
        };
        std::sort(candidates.begin(), candidates.end(), newer);
        std::vector<uint32_t> ended;  // branched where the parent's archive ends: a failover
        for (uint32_t c : candidates)
            if (!archive.archivedPastBranch(archive.timelines.at(c))) ended.push_back(c);
        if (!ended.empty()) {
            current = ended.front();
            continue;
        }
        // Every child is a side branch: the parent went on. Stay on it unless a child is the one
        // still being archived.
        const auto& parent = archive.timelines.at(current);
        uint32_t best = candidates.front();
        const auto& child = archive.timelines.at(best);
        std::string others;
        for (uint32_t c : candidates) others += fmt::format("{}{}", others.empty() ? "" : ", ", c);
        if (parent.lastSegmentTime > archive.newestTime(best)) {
            choice.reasons.push_back(
                fmt::format("following timeline {}: timeline {} branched off it at {} and timeline "
                            "{} was archived past that "
                            "(to segment {}, later than anything on timeline {}); use "
                            "--target-timeline={} to follow it",
                            current, best, pg::formatLsn(child.branch->switchLsn), current,
                            parent.lastSegment, others, best));
            break;
        }
        choice.reasons.push_back(
            fmt::format("following timeline {}: it branched off timeline {} at {}; timeline {} was "
                        "archived past that (to "
                        "segment {}), but timeline {} is the one archived last; use "
                        "--target-timeline={} to stay on timeline {}",
                        best, current, pg::formatLsn(child.branch->switchLsn), current,
                        parent.lastSegment, best, current, current));
        current = best;
    }
    choice.timeline = current;
    return choice;
}

}  // namespace backrest::repo
