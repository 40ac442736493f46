// Block map: block size choice, binary encoding with its own checksum, loading and resolution.
#include "repo/block_map.h"

#include <xxhash.h>

#include <algorithm>
#include <cstring>

#include "common/error.h"
#include "crypto/sealed.h"
#include "io/sha256.h"

namespace backrest::repo {

namespace {

constexpr std::string_view kMagic = "BRBLKMAP";
// Version 2: block checksums are XXH3-128 (version 1 had truncated SHA-256).
constexpr uint32_t kVersion = 2;
constexpr size_t kDigestSize = 32;

// One PostgreSQL page a block for every relation segment (at most 1 GiB): a changed page costs
// one block. Larger files are not relation data; larger blocks keep their maps small.
constexpr uint64_t kPageBlockMaxFileSize = 1ull << 30;
constexpr uint32_t kPageBlockSize = 8 * 1024;
constexpr uint32_t kLargeFileBlockSize = 64 * 1024;

class Writer {
  public:
    void bytes(std::string_view b) { out_.append(b); }
    void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
    void u32(uint32_t v) { fixed(v, 4); }
    void u64(uint64_t v) { fixed(v, 8); }
    void varint(uint64_t v) {
        for (; v >= 0x80; v >>= 7) u8(static_cast<uint8_t>(v | 0x80));
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
        if (in_.size() - pos_ < n) malformed("it ends in the middle of an entry");
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
        malformed("a number is too long");
    }
    uint32_t varint32(const char* what) {
        uint64_t v = varint();
        if (v > UINT32_MAX) malformed(fmt::format("{} {} is out of range", what, v));
        return static_cast<uint32_t>(v);
    }
    bool atEnd() const { return pos_ == in_.size(); }
    [[noreturn]] void malformed(const std::string& why) const {
        raise(ErrorCode::Format, "block map '{}' is malformed: {}", where_, why);
    }

  private:
    uint64_t fixed(int n) {
        auto b = bytes(static_cast<size_t>(n));
        uint64_t v = 0;
        for (int i = 0; i < n; i++)
            v |= static_cast<uint64_t>(static_cast<uint8_t>(b[i])) << (8 * i);
        return v;
    }
    std::string_view in_;
    size_t pos_ = 0;
    const std::string& where_;
};

// The SHA-256 as bytes (io::sha256Hex gives hex, the form every other checksum is kept in).
std::string digest(std::string_view bytes) {
    auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
    std::string hex = io::sha256Hex(bytes);
    std::string raw(kDigestSize, '\0');
    for (size_t i = 0; i < kDigestSize; i++)
        raw[i] = static_cast<char>(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
    return raw;
}

}  // namespace

uint32_t blockSizeFor(uint64_t fileSize) {
    if (fileSize < kBlockMinFileSize) return 0;
    return fileSize <= kPageBlockMaxFileSize ? kPageBlockSize : kLargeFileBlockSize;
}

BlockChecksum blockChecksum(std::span<const uint8_t> bytes) {
    XXH128_canonical_t canonical;
    XXH128_canonicalFromHash(&canonical, XXH3_128bits(bytes.data(), bytes.size()));
    BlockChecksum sum;
    static_assert(sizeof(canonical.digest) == sizeof(sum));
    std::memcpy(sum.data(), canonical.digest, sum.size());
    return sum;
}

uint32_t BlockMap::blockLength(size_t block) const {
    uint64_t start = static_cast<uint64_t>(block) * blockSize;
    return static_cast<uint32_t>(std::min<uint64_t>(blockSize, fileSize - start));
}

size_t BlockMap::frameOf(uint32_t slot) const {
    auto it = std::upper_bound(frames.begin(), frames.end(), slot,
                               [](uint32_t s, const BlockFrame& f) { return s < f.firstSlot; });
    return static_cast<size_t>(it - frames.begin()) - 1;
}

uint32_t BlockMap::slotLength(uint32_t slot) const {
    const BlockFrame& f = frames[frameOf(slot)];
    return slot + 1 == f.firstSlot + f.blocks ? f.originalLength - (f.blocks - 1) * blockSize
                                              : blockSize;
}

void BlockMap::appendBlock(const std::string& holder, uint32_t slot) {
    auto at = std::find(holders.begin(), holders.end(), holder);
    uint32_t index = static_cast<uint32_t>(at - holders.begin());
    if (at == holders.end()) holders.push_back(holder);
    if (!runs.empty() && runs.back().holder == index &&
        runs.back().firstSlot + runs.back().blocks == slot)
        runs.back().blocks++;
    else
        runs.push_back({index, slot, 1});
}

std::string encodeBlockMap(const BlockMap& map) {
    uint64_t blocks = 0;
    for (const auto& r : map.runs) blocks += r.blocks;
    if (map.blockSize == 0 || blocks != map.blockCount())
        raise(ErrorCode::Assert, "block map with block size {} has {} blocks for {} bytes",
              map.blockSize, blocks, map.fileSize);
    Writer w;
    w.bytes(kMagic);
    w.u32(kVersion);
    w.u32(map.blockSize);
    w.u64(map.fileSize);
    w.varint(map.frames.size());
    for (const auto& f : map.frames) {
        w.varint(f.storedLength);
        w.varint(f.blocks);
        w.varint(f.originalLength);
    }
    for (const auto& c : map.checksums)
        w.bytes({reinterpret_cast<const char*>(c.data()), c.size()});
    w.varint(map.holders.size());
    for (const auto& label : map.holders) {
        if (label.empty() || label.size() > 255)
            raise(ErrorCode::Assert, "block map holder label '{}'", label);
        w.u8(static_cast<uint8_t>(label.size()));
        w.bytes(label);
    }
    w.varint(map.runs.size());
    for (const auto& r : map.runs) {
        w.varint(r.holder);
        w.varint(r.firstSlot);
        w.varint(r.blocks);
    }
    w.bytes(digest(w.text()));
    return std::move(w.text());
}

BlockMap decodeBlockMap(std::string_view bytes, const std::string& where) {
    if (bytes.size() < kMagic.size() || bytes.substr(0, kMagic.size()) != kMagic)
        raise(ErrorCode::Format, "'{}' is not a block map (no {} header)", where, kMagic);
    if (bytes.size() < kMagic.size() + kDigestSize ||
        digest(bytes.substr(0, bytes.size() - kDigestSize)) !=
            bytes.substr(bytes.size() - kDigestSize))
        raise(ErrorCode::Checksum,
              "block map '{}' is damaged or truncated: its checksum does not match", where);
    Reader r(bytes.substr(0, bytes.size() - kDigestSize), where);
    r.bytes(kMagic.size());
    uint32_t version = r.u32();
    if (version != kVersion)
        raise(ErrorCode::Format, "block map '{}' has version {}, this backrest reads version {}",
              where, version, kVersion);
    BlockMap map;
    map.blockSize = r.u32();
    map.fileSize = r.u64();
    if (map.blockSize == 0) r.malformed("block size 0");

    uint64_t frames = r.varint(), offset = 0, slots = 0;
    if (frames > bytes.size()) r.malformed(fmt::format("{} frames", frames));
    for (uint64_t i = 0; i < frames; i++) {
        BlockFrame f;
        f.offset = offset;
        f.firstSlot = static_cast<uint32_t>(slots);
        f.storedLength = r.varint32("frame length");
        f.blocks = r.varint32("frame block count");
        f.originalLength = r.varint32("frame original length");
        uint64_t whole = static_cast<uint64_t>(f.blocks) * map.blockSize;
        if (f.blocks == 0 || f.originalLength > whole ||
            f.originalLength <= whole - map.blockSize ||
            (f.originalLength != whole && i + 1 != frames))
            r.malformed(fmt::format("frame {} holds {} bytes in {} blocks of {}", i,
                                    f.originalLength, f.blocks, map.blockSize));
        offset += f.storedLength;
        slots += f.blocks;
        if (slots > UINT32_MAX) r.malformed("too many blocks");
        map.frames.push_back(f);
    }
    map.checksums.resize(slots);
    for (auto& c : map.checksums) std::memcpy(c.data(), r.bytes(c.size()).data(), c.size());

    uint64_t holders = r.varint();
    if (holders > bytes.size()) r.malformed(fmt::format("{} holders", holders));
    for (uint64_t i = 0; i < holders; i++) {
        auto label = r.bytes(r.u8());
        if (!isBackupLabel(label)) r.malformed(fmt::format("'{}' is not a backup label", label));
        map.holders.emplace_back(label);
    }
    uint64_t runs = r.varint(), blocks = 0;
    if (runs > bytes.size()) r.malformed(fmt::format("{} runs", runs));
    for (uint64_t i = 0; i < runs; i++) {
        BlockRun run{r.varint32("holder"), r.varint32("slot"), r.varint32("run length")};
        if (run.holder >= holders || run.blocks == 0)
            r.malformed(fmt::format("run {} of {} blocks from holder {} of {}", i, run.blocks,
                                    run.holder, holders));
        blocks += run.blocks;
        map.runs.push_back(run);
    }
    if (blocks != map.blockCount())
        r.malformed(fmt::format("its runs hold {} blocks, {} bytes need {}", blocks, map.fileSize,
                                map.blockCount()));
    if (!r.atEnd()) r.malformed("bytes follow the last run");
    return map;
}

std::string blockMapPath(const Layout& layout, std::string_view label, std::string_view name) {
    return layout.backupFile(label, name, ".blockmap");
}

std::string blockDataPath(const Layout& layout, std::string_view label, std::string_view name,
                          std::string_view ext) {
    return layout.backupFile(label, name, ".blocks" + std::string(ext));
}

std::string sealBlockMap(std::string encoded, const std::string& path,
                         const std::shared_ptr<const crypto::RepoKey>& key) {
    if (!key) return encoded;
    return crypto::sealText(*key, path, encoded);
}

BlockMap loadBlockMap(storage::Storage& repo, const std::string& path,
                      const std::shared_ptr<const crypto::RepoKey>& key) {
    std::string stored = storage::readAll(repo, path);
    BlockMap map = key ? decodeBlockMap(crypto::openText(*key, path, stored,
                                                         "block map '" + repo.fullPath(path) + "'"),
                                        repo.fullPath(path))
                       : decodeBlockMap(stored, repo.fullPath(path));
    map.storedBytes = stored.size();
    return map;
}

const BlockMap& ResolvedBlockMap::holderMap(uint32_t holder) const {
    const std::string& h = map.holders.at(holder);
    return h == label ? map : others.at(h);
}

ResolvedBlockMap resolveBlockMap(storage::Storage& repo, const Layout& layout,
                                 const std::string& label, const std::string& name) {
    ResolvedBlockMap resolved;
    resolved.label = label;
    std::string path = blockMapPath(layout, label, name);
    resolved.map = loadBlockMap(repo, path, layout.key);
    const BlockMap& map = resolved.map;
    for (const auto& holder : map.holders) {
        if (holder == label) continue;
        BlockMap other = loadBlockMap(repo, blockMapPath(layout, holder, name), layout.key);
        if (other.blockSize != map.blockSize)
            raise(ErrorCode::Format,
                  "block map '{}' has blocks of {} bytes, the map of backup {} it takes blocks "
                  "from {}",
                  repo.fullPath(path), map.blockSize, holder, other.blockSize);
        resolved.others.emplace(holder, std::move(other));
    }
    size_t block = 0;
    for (const auto& run : map.runs) {
        const BlockMap& holder = resolved.holderMap(run.holder);
        if (static_cast<uint64_t>(run.firstSlot) + run.blocks > holder.slotCount())
            raise(ErrorCode::Format,
                  "block map '{}' names blocks {} to {} of backup {}, which holds {}",
                  repo.fullPath(path), run.firstSlot, run.firstSlot + run.blocks - 1,
                  map.holders[run.holder], holder.slotCount());
        for (uint32_t k = 0; k < run.blocks; k++, block++)
            if (holder.slotLength(run.firstSlot + k) != map.blockLength(block))
                raise(ErrorCode::Format,
                      "block map '{}': block {} is {} bytes, the block of backup {} it names {}",
                      repo.fullPath(path), block, map.blockLength(block), map.holders[run.holder],
                      holder.slotLength(run.firstSlot + k));
    }
    return resolved;
}

}  // namespace backrest::repo
