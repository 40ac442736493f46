// The block map of a file stored block by block (repo1-block): for each block of the file, in
// order, the checksum of its original bytes and where its compressed bytes are (which backup's
// .blocks file, at what offset, how long). Blocks come only from the backup holding the map and
// its prior chain, so expiring a backup with its dependents never strands a block.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "repo/layout.h"
#include "storage/storage.h"

namespace backrest::repo {

// Smaller files are stored whole: their map would cost more than it saves.
constexpr uint64_t kBlockMinFileSize = 64 * 1024;

// Block size for a file of `fileSize` bytes; 0 = store the file whole.
uint32_t blockSizeFor(uint64_t fileSize);

// First 16 bytes of the SHA-256 of a block's original bytes.
using BlockChecksum = std::array<uint8_t, 16>;
BlockChecksum blockChecksum(std::span<const uint8_t> bytes);

struct BlockRef {
    BlockChecksum checksum{};
    uint32_t holder = 0;  // index into BlockMap::holders
    uint64_t offset = 0;  // in the holder's .blocks file
    uint32_t length = 0;  // stored (compressed) bytes
};

struct BlockMap {
    uint32_t blockSize = 0;
    uint64_t fileSize = 0;
    std::vector<std::string> holders;  // backup labels whose .blocks files the blocks are in
    std::vector<BlockRef> blocks;

    // Original bytes of block i: blockSize, except a shorter last block.
    uint32_t blockLength(size_t i) const;
    size_t blockCount() const { return fileSize == 0 ? 0 : (fileSize - 1) / blockSize + 1; }
    // Index of `label` in holders, added when new.
    uint32_t holderIndex(const std::string& label);
};

// Binary format (little-endian), version 1:
//   "BRBLKMAP", u32 version, u32 block size, u64 file size, u32 block count,
//   u32 holder count, per holder: u8 length + label,
//   per block: varint holder index, varint zigzag(offset - end of that holder's previous block),
//              varint stored length, 16-byte checksum,
//   SHA-256 (32 bytes) of everything before it.
std::string encodeBlockMap(const BlockMap& map);
// FormatError when malformed, ChecksumError when damaged or truncated; `where` names the file.
BlockMap decodeBlockMap(std::string_view bytes, const std::string& where);

// <label>/<name>.blockmap and <label>/<name>.blocks<ext> (ext: the holder's compression).
std::string blockMapPath(const Layout& layout, std::string_view label, std::string_view name);
std::string blockDataPath(const Layout& layout, std::string_view label, std::string_view name,
                          std::string_view ext);

// Reads and decodes a map; FileMissingError naming the path when it does not exist.
BlockMap loadBlockMap(storage::Storage& repo, const std::string& path);

}  // namespace backrest::repo
