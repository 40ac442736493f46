// WAL continuity of an archive (repo/wal_continuity.h).
#include "repo/wal_continuity.h"

#include <algorithm>

#include "common/error.h"
#include "io/buffer.h"
#include "io/compress.h"
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

std::vector<WalPathStep> recoveryPath(uint32_t backupTimeline, uint64_t stopSegno, uint64_t stopLsn,
                                      uint32_t targetTimeline,
                                      const std::vector<TimelineSwitch>& history,
                                      uint32_t segmentSize) {
    std::vector<WalPathStep> path;
    uint64_t from = stopSegno + 1;
    auto at = std::find_if(history.begin(), history.end(),
                           [&](const TimelineSwitch& s) { return s.parent == backupTimeline; });
    if (targetTimeline == backupTimeline || at == history.end() || at->switchLsn <= stopLsn) {
        path.push_back({backupTimeline, from, std::nullopt});
        return path;
    }
    for (auto it = at; it != history.end(); ++it) {
        uint64_t switchSegno = it->switchLsn / segmentSize;
        if (switchSegno > from) path.push_back({it->parent, from, switchSegno - 1});
        from = std::max(from, switchSegno);
    }
    path.push_back({targetTimeline, from, std::nullopt});
    return path;
}

std::optional<uint64_t> firstMissing(const std::vector<uint64_t>& present, uint64_t from,
                                     uint64_t to) {
    auto it = std::lower_bound(present.begin(), present.end(), from);
    for (uint64_t want = from; want <= to; want++, ++it)
        if (it == present.end() || *it != want) return want;
    return std::nullopt;
}

ArchiveListing::ArchiveListing(storage::Storage& repo, const Layout& layout, std::string archiveId,
                               uint32_t segmentSize)
    : repo_(repo), layout_(layout), archiveId_(std::move(archiveId)), segmentSize_(segmentSize) {
    for (const auto& e : repo_.list(layout_.archiveIdDir(archiveId_))) {
        if (e.type == storage::FileType::Path && e.name.size() == 16 &&
            pg::isWalSegmentName(e.name + "00000000")) {
            dirs_[hex32(e.name.substr(0, 8))].push_back(e.name);
        } else if (e.type == storage::FileType::File && e.name.size() > 17 &&
                   pg::isHistoryFileName(e.name.substr(0, 16)) && e.name[16] == '-' &&
                   !isSetAsideName(e.name) && !e.name.ends_with(".tmp")) {
            histories_[hex32(e.name.substr(0, 8))] =
                layout_.archiveIdDir(archiveId_) + "/" + e.name;
        }
    }
    for (auto& [timeline, names] : dirs_) std::sort(names.begin(), names.end());
}

const std::vector<uint64_t>& ArchiveListing::segments(uint32_t timeline, uint64_t fromSegno) {
    if (auto it = listedFrom_.find(timeline); it != listedFrom_.end() && it->second <= fromSegno)
        return segments_[timeline];
    std::vector<uint64_t>& out = segments_[timeline];
    out.clear();
    listedFrom_[timeline] = fromSegno;
    std::string firstDir = pg::WalSegment{timeline, fromSegno}.name(segmentSize_).substr(0, 16);
    for (const auto& dir : dirs_[timeline]) {
        if (dir < firstDir) continue;
        for (const auto& e : repo_.list(layout_.archiveIdDir(archiveId_) + "/" + dir)) {
            // <segment>-<sha256>[.ext]; a .tmp is a write in progress, never a stored segment.
            if (e.type != storage::FileType::File || e.name.size() < 25 || e.name[24] != '-' ||
                e.name.ends_with(".tmp") || isSetAsideName(e.name))
                continue;
            auto segment = pg::WalSegment::parse(e.name.substr(0, 24), segmentSize_);
            if (segment && segment->timeline == timeline && segment->segno >= fromSegno)
                out.push_back(segment->segno);
        }
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

std::string ArchiveListing::history(uint32_t timeline) {
    auto it = histories_.find(timeline);
    if (it == histories_.end())
        raise(ErrorCode::FileMissing, "timeline history file {:08X}.history is not in archive {}",
              timeline, archiveId_);
    std::string text;
    io::FilterChain chain(
        [&](std::span<const uint8_t> bytes) { text.append(bytes.begin(), bytes.end()); });
    RepoCodec(io::compressTypeOfStoredName(it->second))
        .withKey(layout_.key)
        .pushDecode(chain, walPiece(it->second), repo_.fullPath(it->second));
    auto in = repo_.openRead(it->second);
    io::Buffer buffer(64 * 1024);
    for (;;) {
        size_t n = in->read({buffer.data(), buffer.capacity()});
        if (n == 0) break;
        chain.write({buffer.data(), n});
    }
    chain.finish();
    return text;
}

uint32_t ArchiveListing::latestTimeline(uint32_t from) const {
    uint32_t timeline = from;
    while (histories_.count(timeline + 1)) timeline++;
    return timeline;
}

}  // namespace backrest::repo
