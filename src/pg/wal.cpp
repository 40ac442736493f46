// WAL names, LSN arithmetic and segment header parsing.
#include "pg/wal.h"

#include <fmt/format.h>

#include <cstring>

#include "common/error.h"

namespace backrest::pg {

namespace {

bool isHex(std::string_view s) {
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'))) return false;
    return !s.empty();
}

uint64_t hexValue(std::string_view s) {
    uint64_t v = 0;
    for (char c : s) v = v * 16 + static_cast<uint64_t>(c <= '9' ? c - '0' : c - 'A' + 10);
    return v;
}

template <typename T>
T readLe(const uint8_t* p) {
    // PostgreSQL writes WAL in the server's byte order; we only run on little-endian hosts.
    T v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

}  // namespace

uint64_t parseLsn(std::string_view text) {
    auto slash = text.find('/');
    auto hi = text.substr(0, slash);
    auto lo = slash == std::string_view::npos ? std::string_view{} : text.substr(slash + 1);
    std::string hiUpper(hi), loUpper(lo);
    for (auto* s : {&hiUpper, &loUpper})
        for (char& c : *s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (!isHex(hiUpper) || !isHex(loUpper) || hiUpper.size() > 8 || loUpper.size() > 8)
        raise(ErrorCode::Format, "invalid LSN '{}' (expected the form 16/B374D848)", text);
    return (hexValue(hiUpper) << 32) | hexValue(loUpper);
}

std::string formatLsn(uint64_t lsn) {
    return fmt::format("{:X}/{:X}", static_cast<uint32_t>(lsn >> 32), static_cast<uint32_t>(lsn));
}

std::optional<WalSegment> WalSegment::parse(std::string_view name, uint32_t segmentSize) {
    if (!isWalSegmentName(name)) return std::nullopt;
    uint64_t perId = 0x100000000ULL / segmentSize;
    uint64_t log = hexValue(name.substr(8, 8));
    uint64_t seg = hexValue(name.substr(16, 8));
    if (seg >= perId) return std::nullopt;
    return WalSegment{static_cast<uint32_t>(hexValue(name.substr(0, 8))), log * perId + seg};
}

WalSegment WalSegment::containing(uint32_t timeline, uint64_t lsn, uint32_t segmentSize) {
    return WalSegment{timeline, lsn / segmentSize};
}

std::string WalSegment::name(uint32_t segmentSize) const {
    uint64_t perId = 0x100000000ULL / segmentSize;
    return fmt::format("{:08X}{:08X}{:08X}", timeline, static_cast<uint32_t>(segno / perId),
                       static_cast<uint32_t>(segno % perId));
}

bool isWalSegmentName(std::string_view name) {
    return name.size() == 24 && isHex(name);
}

bool isHistoryFileName(std::string_view name) {
    return name.size() == 16 && isHex(name.substr(0, 8)) && name.substr(8) == ".history";
}

bool isBackupHistoryName(std::string_view name) {
    return name.size() == 40 && isHex(name.substr(0, 24)) && name[24] == '.' &&
           isHex(name.substr(25, 8)) && name.substr(33) == ".backup";
}

bool isPartialName(std::string_view name) {
    return name.size() == 32 && isHex(name.substr(0, 24)) && name.substr(24) == ".partial";
}

std::vector<std::string> walRange(uint32_t timeline, uint64_t startLsn, uint64_t stopLsn,
                                  uint32_t segmentSize) {
    std::vector<std::string> names;
    uint64_t first = startLsn / segmentSize;
    uint64_t last = stopLsn / segmentSize;
    // A stop LSN exactly on a segment boundary still needs the previous segment only.
    if (stopLsn % segmentSize == 0 && last > first) last--;
    for (uint64_t s = first; s <= last; s++)
        names.push_back(WalSegment{timeline, s}.name(segmentSize));
    return names;
}

WalHeader parseWalHeader(std::span<const uint8_t> bytes, std::string_view context) {
    // XLogLongPageHeaderData: magic(2) info(2) tli(4) pageaddr(8) rem_len(4) pad(4)
    //                         sysid(8) seg_size(4) xlog_blcksz(4)
    constexpr size_t kLongHeaderSize = 40;
    constexpr uint16_t kLongHeaderFlag = 0x0002;
    if (bytes.size() < kLongHeaderSize)
        raise(ErrorCode::Format, "'{}' is too short to be a WAL segment ({} bytes)", context,
              bytes.size());
    WalHeader h;
    h.magic = readLe<uint16_t>(bytes.data());
    uint16_t info = readLe<uint16_t>(bytes.data() + 2);
    h.timeline = readLe<uint32_t>(bytes.data() + 4);
    h.pageAddress = readLe<uint64_t>(bytes.data() + 8);
    h.systemId = readLe<uint64_t>(bytes.data() + 24);
    h.segmentSize = readLe<uint32_t>(bytes.data() + 32);
    h.blockSize = readLe<uint32_t>(bytes.data() + 36);
    if (walMagicVersion(h.magic).empty() || !(info & kLongHeaderFlag))
        raise(ErrorCode::Format,
              "'{}' does not start with a WAL long page header (magic 0x{:04X}, info 0x{:04X})",
              context, h.magic, info);
    return h;
}

std::string walMagicVersion(uint16_t magic) {
    switch (magic) {
        case 0xD10D:
            return "14";
        case 0xD110:
            return "15";
        case 0xD113:
            return "16";
        case 0xD116:
            return "17";
        default:
            return "";
    }
}

}  // namespace backrest::pg
