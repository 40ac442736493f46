// The block map of a file stored block by block (repo1-block). A backup's map of a file says
// what that backup stored of it (its .blocks file: frames of compressed blocks, and the checksum
// of each block it holds) and what the file is (every block in order, as runs of blocks held by
// this backup or by earlier ones of its chain). A block's checksum is thus kept once, by the
// backup holding it, and a map costs in proportion to what changed, not to the file's size.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "repo/layout.h"
#include "storage/storage.h"

namespace backrest::repo {

// Smaller files are stored whole: their map would cost more than it saves.
constexpr uint64_t kBlockMinFileSize = 64 * 1024;
// The blocks a backup stores are compressed together in frames of up to this many original
// bytes: one block alone compresses far worse (pgbench's btree pages: 20 % of their size alone at
// 16 KiB frames, 16.3 % at 128 KiB, 15.2 % at 1 MiB), while a delta restore decompresses every
// frame holding a changed block (1 % of pages changed at random touches 15 % of 128 KiB frames,
// 72 % of 1 MiB ones).
constexpr uint32_t kBlockFrameSize = 128 * 1024;

// Block size for a file of `fileSize` bytes; 0 = store the file whole.
uint32_t blockSizeFor(uint64_t fileSize);

// XXH3-128 of a block's original bytes (big-endian canonical form). A block checksum only has to
// tell a changed block from an unchanged one, never resist a forger: XXH3 does that at memory
// speed, so a delta restore can compare every block of a large file with the backup's in a
// fraction of the time SHA-256 would take (pgBackRest's block incremental uses xxHash too).
using BlockChecksum = std::array<uint8_t, 16>;
BlockChecksum blockChecksum(std::span<const uint8_t> bytes);

// Consecutive blocks this backup stored ("slots" firstSlot.. firstSlot + blocks - 1), compressed
// as one stream of the backup's codec: a frame decompresses alone.
struct BlockFrame {
    uint64_t offset = 0;        // in the .blocks file
    uint32_t storedLength = 0;  // compressed bytes
    uint32_t firstSlot = 0;
    uint32_t blocks = 0;
    uint32_t originalLength = 0;  // all blockSize but a short last block of the file
};

// Blocks [start, start + blocks) of the file are slots firstSlot.. of holders[holder].
struct BlockRun {
    uint32_t holder = 0;
    uint32_t firstSlot = 0;
    uint32_t blocks = 0;
};

struct BlockMap {
    uint32_t blockSize = 0;
    uint64_t fileSize = 0;
    // What this backup stored, in .blocks order.
    std::vector<BlockFrame> frames;
    std::vector<BlockChecksum> checksums;  // per slot
    // The file, block by block.
    std::vector<std::string> holders;  // backup labels
    std::vector<BlockRun> runs;
    // Bytes of the map as stored in the repository (sealed), set by loadBlockMap: what reading
    // it costs a restore (repo/block_transfer.h, StoredBlocks::referencedBytes).
    uint64_t storedBytes = 0;

    size_t blockCount() const { return fileSize == 0 ? 0 : (fileSize - 1) / blockSize + 1; }
    uint32_t blockLength(size_t block) const;  // of the file: blockSize but a shorter last
    size_t slotCount() const { return checksums.size(); }
    size_t frameOf(uint32_t slot) const;
    uint32_t slotLength(uint32_t slot) const;
    // Appends the next block of the file: slot `slot` of backup `holder`.
    void appendBlock(const std::string& holder, uint32_t slot);
};

// Binary format (little-endian integers, LEB128 varints), version 2:
//   "BRBLKMAP", u32 version (2), u32 block size, u64 file size,
//   varint frame count, per frame: varint stored length, varint blocks, varint original length,
//   16-byte block checksum per slot (their number is the sum of the frames' blocks),
//   varint holder count, per holder: u8 length + label,
//   varint run count, per run: varint holder index, varint first slot, varint blocks,
//   SHA-256 (32 bytes) of everything before it.
std::string encodeBlockMap(const BlockMap& map);
// FormatError when malformed, ChecksumError when damaged or truncated; `where` names the file.
BlockMap decodeBlockMap(std::string_view bytes, const std::string& where);

// <label>/<name>.blockmap and <label>/<name>.blocks<ext> (ext: the holder's compression).
std::string blockMapPath(const Layout& layout, std::string_view label, std::string_view name);
std::string blockDataPath(const Layout& layout, std::string_view label, std::string_view name,
                          std::string_view ext);

// Reads and decodes a map; FileMissingError naming the path when it does not exist.
BlockMap loadBlockMap(storage::Storage& repo, const std::string& path,
                      const std::shared_ptr<const crypto::RepoKey>& key = nullptr);
// An encoded map as stored: sealed as the metadata file `path` (crypto::sealText) with `key`, as
// it is without one.
std::string sealBlockMap(std::string encoded, const std::string& path,
                         const std::shared_ptr<const crypto::RepoKey>& key);

// A file's map in one backup, with the maps of the other backups holding its blocks: all that
// is needed to check each block and find its bytes.
struct ResolvedBlockMap {
    std::string label;  // the backup whose map this is
    BlockMap map;
    std::map<std::string, BlockMap> others;  // by holder label

    const BlockMap& holderMap(uint32_t holder) const;  // by index into map.holders
};

// Loads <label>/<name>.blockmap and the map of each holder it names; checks that block sizes
// agree and that every run's slots exist with the length the file needs there.
ResolvedBlockMap resolveBlockMap(storage::Storage& repo, const Layout& layout,
                                 const std::string& label, const std::string& name);

}  // namespace backrest::repo
