// verify's reading of the WAL archive (worker/verify_wal.h).
#include "worker/verify_wal.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "pg/wal.h"

namespace backrest::cmd {

namespace {

constexpr size_t kShaDigits = 64;

}  // namespace

std::optional<StoredWalName> parseStoredWalName(const std::string& fileName) {
    StoredWalName out;
    size_t dash = fileName.find('-');
    out.walName = fileName.substr(0, dash);
    out.sha = dash == std::string::npos ? "" : fileName.substr(dash + 1, kShaDigits);
    std::string ext = dash == std::string::npos || fileName.size() < dash + 1 + kShaDigits
                          ? ""
                          : fileName.substr(dash + 1 + kShaDigits);
    out.segmentLike = pg::isWalSegmentName(out.walName) || pg::isPartialName(out.walName) ||
                      pg::isBackupHistoryName(out.walName);
    std::optional<io::CompressType> type;
    for (auto t : {io::CompressType::None, io::CompressType::Zst, io::CompressType::Lz4})
        if (ext == io::compressExtension(t)) type = t;
    if (out.sha.size() != kShaDigits ||
        out.sha.find_first_not_of("0123456789abcdef") != std::string::npos || !type ||
        !(out.segmentLike || pg::isHistoryFileName(out.walName)))
        return std::nullopt;
    out.type = *type;
    return out;
}

bool validSegmentSize(uint32_t size) {
    return size >= 1024 * 1024 && (size & (size - 1)) == 0;
}

std::vector<std::string> walGaps(const std::vector<std::string>& walNames,
                                 const std::string& startName, uint32_t segmentSize,
                                 const std::string& archiveId) {
    std::vector<std::string> gaps;
    auto start = pg::WalSegment::parse(startName, segmentSize);
    if (!start) return gaps;
    std::map<uint32_t, std::vector<uint64_t>> byTimeline;
    for (const auto& walName : walNames)
        if (auto s = pg::WalSegment::parse(walName, segmentSize);
            s && s->timeline >= start->timeline && s->segno >= start->segno)
            byTimeline[s->timeline].push_back(s->segno);
    for (auto& [timeline, segnos] : byTimeline) {
        std::sort(segnos.begin(), segnos.end());
        uint64_t expected = timeline == start->timeline ? start->segno : segnos.front();
        for (uint64_t segno : segnos) {
            if (segno > expected) {
                std::string first = pg::WalSegment{timeline, expected}.name(segmentSize);
                std::string last = pg::WalSegment{timeline, segno - 1}.name(segmentSize);
                gaps.push_back(fmt::format(
                    "WAL gap: {} missing in archive {}: point-in-time recovery cannot cross it",
                    first == last ? first : first + " to " + last, archiveId));
            }
            expected = segno + 1;
        }
    }
    return gaps;
}

}  // namespace backrest::cmd
