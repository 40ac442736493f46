// verify's reading back of one stored file: decompress, checksum and count it (or reassemble
// a block-stored file from its chain) into a sink that keeps nothing, recording what is wrong.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "io/compress.h"
#include "repo/block_transfer.h"
#include "repo/layout.h"
#include "storage/storage.h"

namespace backrest::cmd {

// One repository file to read back, and what its original bytes must be.
struct ReadCheck {
    std::string path;
    io::CompressType type = io::CompressType::None;
    std::string checksum;
    std::optional<uint64_t> size, storedSize;  // unknown for WAL: its name carries only the checksum
    uint64_t order = 0;                        // stored bytes: the largest are started first
    std::string problem;                       // what is wrong; empty when the file is good
    // A block-stored file (path is then its map): reassembled from the backups of its holder's
    // chain, whose compression this gives.
    uint32_t blockSize = 0;
    std::string name, holder;
    std::shared_ptr<const repo::CompressByLabel> chain;
    // A file stored as zstd frames (repo::ManifestFile::frames): read frame by frame as a
    // restore reads it, so a wrong index is found here and not at restore time.
    uint64_t frameBytes = 0;
    std::vector<uint64_t> frames;
};

void readBack(storage::Storage& repo, ReadCheck& check, size_t bufferSize);
void readBackBlocks(storage::Storage& repo, const repo::Layout& layout, ReadCheck& check, size_t bufferSize);

}  // namespace backrest::cmd
