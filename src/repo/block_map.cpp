// Block map: block size choice, binary encoding with its own checksum, and loading.
#include "repo/block_map.h"

#include <algorithm>
#include <cstring>
#include <iterator>

#include "common/error.h"
#include "io/sha256.h"

namespace backrest::repo {

namespace {

constexpr std::string_view kMagic = "BRBLKMAP";
constexpr uint32_t kVersion = 1;
constexpr size_t kDigestSize = 32;

// Larger files get larger blocks so that the map (about 20 bytes a block) stays a small part
// of what a sparse change costs, while a block stays a handful of PostgreSQL pages.
struct BlockSizeStep {
    uint64_t upTo;  // files of at most this many bytes
    uint32_t blockSize;
};
constexpr BlockSizeStep kBlockSizes[] = {
    {16ull << 20, 8 * 1024},
    {256ull << 20, 16 * 1024},
    {UINT64_MAX, 32 * 1024},
};

class Writer {
public:
    void bytes(std::string_view b) { out_.append(b); }
    void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
    void u32(uint32_t v) { fixed(v, 4); }
    void u64(uint64_t v) { fixed(v, 8); }
    void varint(uint64_t v) {
        while (v >= 0x80) {
            u8(static_cast<uint8_t>(v | 0x80));
            v >>= 7;
        }
        u8(static_cast<uint8_t>(v));
    }
    std::string& text() { return out_; }

private:
    void fixed(uint64_t v, int n) {
        for (int i = 0; i < n; i++) u8(static_cast<uint8_t>(v >> (8 * i)));
    }
    std::string out_;
};

class Reader {
public:
    Reader(std::string_view in, const std::string& where) : in_(in), where_(where) {}
    std::string_view bytes(size_t n) {
        need(n);
        auto b = in_.substr(pos_, n);
        pos_ += n;
        return b;
    }
    uint8_t u8() { return static_cast<uint8_t>(bytes(1)[0]); }
    uint32_t u32() { return static_cast<uint32_t>(fixed(4)); }
    uint64_t u64() { return fixed(8); }
    uint64_t varint() {
        uint64_t v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            uint8_t b = u8();
            v |= static_cast<uint64_t>(b & 0x7f) << shift;
            if (!(b & 0x80)) return v;
        }
        raise(ErrorCode::Format, "block map '{}' is malformed: a number is too long", where_);
    }
    bool atEnd() const { return pos_ == in_.size(); }

private:
    void need(size_t n) {
        if (in_.size() - pos_ < n)
            raise(ErrorCode::Format, "block map '{}' is malformed: it ends in the middle of an entry", where_);
    }
    uint64_t fixed(int n) {
        auto b = bytes(static_cast<size_t>(n));
        uint64_t v = 0;
        for (int i = 0; i < n; i++) v |= static_cast<uint64_t>(static_cast<uint8_t>(b[i])) << (8 * i);
        return v;
    }
    std::string_view in_;
    size_t pos_ = 0;
    const std::string& where_;
};

uint64_t zigzag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
int64_t unzigzag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

// The SHA-256 as bytes (io::sha256Hex gives hex, the form every other checksum is kept in).
std::string digest(std::string_view bytes) {
    auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
    std::string hex = io::sha256Hex(bytes);
    std::string raw(kDigestSize, '\0');
    for (size_t i = 0; i < kDigestSize; i++) raw[i] = static_cast<char>(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
    return raw;
}

}  // namespace

uint32_t blockSizeFor(uint64_t fileSize) {
    if (fileSize < kBlockMinFileSize) return 0;
    for (const auto& step : kBlockSizes)
        if (fileSize <= step.upTo) return step.blockSize;
    return kBlockSizes[std::size(kBlockSizes) - 1].blockSize;
}

BlockChecksum blockChecksum(std::span<const uint8_t> bytes) {
    std::string full = digest({reinterpret_cast<const char*>(bytes.data()), bytes.size()});
    BlockChecksum sum;
    std::memcpy(sum.data(), full.data(), sum.size());
    return sum;
}

uint32_t BlockMap::blockLength(size_t i) const {
    uint64_t start = static_cast<uint64_t>(i) * blockSize;
    return static_cast<uint32_t>(std::min<uint64_t>(blockSize, fileSize - start));
}

uint32_t BlockMap::holderIndex(const std::string& label) {
    for (size_t i = 0; i < holders.size(); i++)
        if (holders[i] == label) return static_cast<uint32_t>(i);
    holders.push_back(label);
    return static_cast<uint32_t>(holders.size() - 1);
}

std::string encodeBlockMap(const BlockMap& map) {
    if (map.blockSize == 0 || map.blocks.size() != map.blockCount())
        raise(ErrorCode::Assert, "block map with block size {} has {} blocks for {} bytes", map.blockSize,
              map.blocks.size(), map.fileSize);
    Writer w;
    w.bytes(kMagic);
    w.u32(kVersion);
    w.u32(map.blockSize);
    w.u64(map.fileSize);
    w.u32(static_cast<uint32_t>(map.blocks.size()));
    w.u32(static_cast<uint32_t>(map.holders.size()));
    for (const auto& label : map.holders) {
        if (label.empty() || label.size() > 255) raise(ErrorCode::Assert, "block map holder label '{}'", label);
        w.u8(static_cast<uint8_t>(label.size()));
        w.bytes(label);
    }
    std::vector<uint64_t> next(map.holders.size(), 0);  // end of each holder's previous block
    for (const auto& b : map.blocks) {
        if (b.holder >= map.holders.size()) raise(ErrorCode::Assert, "block map holder index {}", b.holder);
        w.varint(b.holder);
        w.varint(zigzag(static_cast<int64_t>(b.offset - next[b.holder])));
        w.varint(b.length);
        w.bytes({reinterpret_cast<const char*>(b.checksum.data()), b.checksum.size()});
        next[b.holder] = b.offset + b.length;
    }
    w.bytes(digest(w.text()));
    return std::move(w.text());
}

BlockMap decodeBlockMap(std::string_view bytes, const std::string& where) {
    if (bytes.size() < kMagic.size() || bytes.substr(0, kMagic.size()) != kMagic)
        raise(ErrorCode::Format, "'{}' is not a block map (no {} header)", where, kMagic);
    if (bytes.size() < kMagic.size() + kDigestSize ||
        digest(bytes.substr(0, bytes.size() - kDigestSize)) != bytes.substr(bytes.size() - kDigestSize))
        raise(ErrorCode::Checksum, "block map '{}' is damaged or truncated: its checksum does not match", where);
    Reader r(bytes.substr(0, bytes.size() - kDigestSize), where);
    r.bytes(kMagic.size());
    uint32_t version = r.u32();
    if (version != kVersion)
        raise(ErrorCode::Format, "block map '{}' has version {}, this backrest reads version {}", where, version,
              kVersion);
    BlockMap map;
    map.blockSize = r.u32();
    map.fileSize = r.u64();
    uint32_t count = r.u32();
    if (map.blockSize == 0 || count != map.blockCount())
        raise(ErrorCode::Format, "block map '{}' is malformed: {} blocks of {} bytes cannot hold {} bytes", where,
              count, map.blockSize, map.fileSize);
    uint32_t holders = r.u32();
    for (uint32_t i = 0; i < holders; i++) {
        auto label = r.bytes(r.u8());
        if (!isBackupLabel(label))
            raise(ErrorCode::Format, "block map '{}' is malformed: '{}' is not a backup label", where, label);
        map.holders.emplace_back(label);
    }
    std::vector<uint64_t> next(holders, 0);
    map.blocks.resize(count);
    for (auto& b : map.blocks) {
        uint64_t holder = r.varint();
        if (holder >= holders)
            raise(ErrorCode::Format, "block map '{}' is malformed: holder {} of {}", where, holder, holders);
        b.holder = static_cast<uint32_t>(holder);
        b.offset = next[b.holder] + static_cast<uint64_t>(unzigzag(r.varint()));
        uint64_t length = r.varint();
        if (length > UINT32_MAX) raise(ErrorCode::Format, "block map '{}' is malformed: block length {}", where, length);
        b.length = static_cast<uint32_t>(length);
        std::memcpy(b.checksum.data(), r.bytes(b.checksum.size()).data(), b.checksum.size());
        next[b.holder] = b.offset + b.length;
    }
    if (!r.atEnd()) raise(ErrorCode::Format, "block map '{}' is malformed: bytes after the last block", where);
    return map;
}

std::string blockMapPath(const Layout& layout, std::string_view label, std::string_view name) {
    return layout.backupFile(label, name, ".blockmap");
}

std::string blockDataPath(const Layout& layout, std::string_view label, std::string_view name,
                          std::string_view ext) {
    return layout.backupFile(label, name, ".blocks" + std::string(ext));
}

BlockMap loadBlockMap(storage::Storage& repo, const std::string& path) {
    return decodeBlockMap(storage::readAll(repo, path), repo.fullPath(path));
}

}  // namespace backrest::repo
