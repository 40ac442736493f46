// WAL knowledge without the backend: LSNs, segment names, ranges, and the long page header
// that starts every segment (which carries the system identifier archive-push checks).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace backrest::pg {

constexpr uint32_t kDefaultWalSegmentSize = 16 * 1024 * 1024;

// "16/B374D848" <-> 64-bit position.
uint64_t parseLsn(std::string_view text);  // throws FormatError naming the text
std::string formatLsn(uint64_t lsn);

// "000000010000000A000000FE": timeline, then the segment number split in two 32-bit halves.
struct WalSegment {
    uint32_t timeline = 0;
    uint64_t segno = 0;

    static std::optional<WalSegment> parse(std::string_view name, uint32_t segmentSize);
    static WalSegment containing(uint32_t timeline, uint64_t lsn, uint32_t segmentSize);
    std::string name(uint32_t segmentSize) const;
};

bool isWalSegmentName(std::string_view name);     // 24 hex digits
bool isHistoryFileName(std::string_view name);    // 00000002.history
bool isBackupHistoryName(std::string_view name);  // <segment>.<8 hex>.backup
bool isPartialName(std::string_view name);        // <segment>.partial

// Every segment from the one holding startLsn to the one holding stopLsn, inclusive.
std::vector<std::string> walRange(uint32_t timeline, uint64_t startLsn, uint64_t stopLsn,
                                  uint32_t segmentSize);

struct WalHeader {
    uint16_t magic = 0;
    uint32_t timeline = 0;
    uint64_t pageAddress = 0;
    uint64_t systemId = 0;
    uint32_t segmentSize = 0;
    uint32_t blockSize = 0;
};

// Parses the long page header at the start of a segment; throws FormatError naming `context`
// when the bytes are not a WAL segment start.
WalHeader parseWalHeader(std::span<const uint8_t> bytes, std::string_view context);

// PostgreSQL major version ("15") that writes the given XLOG_PAGE_MAGIC, or empty if unknown.
std::string walMagicVersion(uint16_t magic);

}  // namespace backrest::pg
