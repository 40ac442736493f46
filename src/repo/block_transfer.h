// A file stored block by block (repo1-block): backup reads it once, refers to the prior
// backup's block wherever the checksum is unchanged and appends the other blocks, compressed in
// frames that decompress alone, to this backup's <name>.blocks file; restore and verify
// reassemble the file from the blocks its map names, in the backups of the chain that hold them.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "io/compress.h"
#include "io/filter.h"
#include "repo/block_map.h"
#include "repo/file_transfer.h"
#include "repo/layout.h"
#include "storage/async_close.h"
#include "storage/posix.h"
#include "storage/storage.h"

namespace backrest::repo {

struct StoredBlocks {
    StoredFile file;  // size and SHA-256 of the whole file; repoSize = .blocks + .blockmap
    uint64_t blocksStored = 0;  // appended to this backup's .blocks file
    uint64_t blocksKept = 0;    // referenced from the prior map
    // What a restore of the file reads from earlier backups besides file.repoSize: the map of
    // each earlier backup holding some of its blocks and the frames holding them
    // (ManifestFile::referencedBlockBytes).
    uint64_t referencedBytes = 0;
};

// Where the file goes: backup `label` of `layout`, manifest name `name` ("pg_data/base/1/1259").
struct BlockTarget {
    const Layout* layout = nullptr;
    std::string label;
    std::string name;
};

// Stores `sourcePath` in blocks of `blockSize` bytes. A block equal (length and checksum) to
// `prior`'s block at the same position is referred to where prior has it; the others are stored
// in <label>/<name>.blocks<ext>; then <label>/<name>.blockmap is written. Both are written
// atomically, their directory is not fsynced (as storeFile). The whole file's SHA-256, its
// size and `observer` see every original byte once, in order. nullopt when the source vanished.
// `prior` with another block size is ignored.
std::optional<StoredBlocks> storeBlocks(storage::Storage& source, const std::string& sourcePath,
                                        storage::Storage& repo, const BlockTarget& target,
                                        uint32_t blockSize, const ResolvedBlockMap* prior,
                                        const TransferOptions& options,
                                        io::Filter* observer = nullptr);

// The compression of every backup whose .blocks files a map may name (the chain of the backup
// being read); a map naming another backup is malformed.
using CompressByLabel = std::map<std::string, io::CompressType>;

struct ReassembledFile {
    uint64_t size = 0;
    std::string checksum;
};

// Streams the original bytes of file `name` that `map` describes, in order, into `sink`; each
// block is read from its holder's .blocks file, decompressed and checked against its length and
// checksum. A missing .blocks file raises FileMissingError, a damaged block ChecksumError naming
// the file, the backup whose map this is, the holder and the offset.
ReassembledFile reassembleBlocks(storage::Storage& repo, const Layout& layout,
                                 const std::string& name, const ResolvedBlockMap& map,
                                 const CompressByLabel& compressOf, io::ChecksumType checksumType,
                                 const std::function<void(std::span<const uint8_t>)>& sink,
                                 size_t bufferSize);

// Restores a block-stored file (its map in backup expected.label) to `destinationPath`, like
// fetchFile: size and SHA-256 verified before the file is kept; otherwise it is removed and
// ChecksumError names file and backup.
void fetchBlocks(storage::Storage& repo, const Layout& layout, const CompressByLabel& compressOf,
                 storage::Storage& destination, const std::string& destinationPath,
                 const ExpectedFile& expected, size_t bufferSize,
                 storage::AsyncCloser* closer = nullptr);

// What a delta restore did to a block-stored file.
struct PatchedBlocks {
    uint64_t blocksCompared = 0;  // local blocks checked against the backup's checksums
    uint64_t blocksWritten = 0;   // fetched from the repository and written in place
    uint64_t framesRead = 0;      // frames read and decompressed to get them
};

// Delta restore of a block-stored file (its map in backup expected.label) over an existing local
// copy of any size: each local block is compared with the checksum the map records for the
// block at its position; only the frames holding blocks that differ are read (ranged reads) and
// decompressed; each such block is checked against its checksum and written in place; the file
// is cut or extended to the backup's size and fsynced when anything changed. Every block of the
// result was thus checked against the backup, kept ones by their XXH3-128 and fetched ones after
// decompression; the whole-file SHA-256 is not recomputed (that would read the file once more,
// which is what a block delta restore exists to avoid). Mode, owner and time are the caller's.
// A large file's blocks are compared on up to `threads` threads.
PatchedBlocks patchBlocks(storage::Storage& repo, const Layout& layout,
                          const CompressByLabel& compressOf, storage::PosixStorage& dataDir,
                          const std::string& localPath, const ExpectedFile& expected,
                          size_t threads = 1);

}  // namespace backrest::repo
