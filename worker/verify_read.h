// verify's reading back of one stored file: decompress, checksum and count it (or reassemble
// a block-stored file from its chain) into a sink that keeps nothing, recording what is wrong.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "io/compress.h"
#include "io/file_checksum.h"
#include "repo/block_transfer.h"
#include "repo/frame_order.h"
#include "repo/layout.h"
#include "repo/stored_file_reader.h"
#include "storage/storage.h"

namespace backrest::cmd {

// One repository file to read back, and what its original bytes must be.
struct ReadCheck {
    std::string path;
    storage::ReadRange range;  // a file in a bundle: its bytes there (storedSize is their length)
    io::CompressType type = io::CompressType::None;
    // What the stored bytes are sealed as (repo/piece.h) and the key, for an encrypted repository.
    std::string piece;
    std::shared_ptr<const crypto::RepoKey> key;
    std::string checksum;
    std::optional<uint64_t> size,
        storedSize;  // unknown for WAL: its name carries only the checksum
    // A WAL segment: its size must be the segment size its long page header gives.
    bool walSegment = false;
    uint64_t order = 0;   // stored bytes: the largest are started first
    std::string problem;  // what is wrong; empty when the file is good
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

// A file stored as frames, read back as a restore reads it: every frame on its own, as one job
// each, so verify's threads share a large file too; the whole file's checksum is taken in frame
// order (a job waits only for the one before it: start them in frame order). Never throws: what
// is wrong goes to check.problem.
class FramedReadBack {
  public:
    FramedReadBack(storage::Storage& repo, ReadCheck& check) : repo_(repo), check_(check) {}
    // Whether `check` is such a file.
    static bool applies(const ReadCheck& check);
    size_t frameCount() const { return check_.frames.size(); }
    void read(size_t k);

  private:
    void fail(const std::string& problem);

    storage::Storage& repo_;
    ReadCheck& check_;
    std::mutex mutex_;
    std::condition_variable turn_;
    bool failed_ = false;
    std::unique_ptr<repo::FrameOrder> order_;  // under mutex_
};
void readBackBlocks(storage::Storage& repo, const repo::Layout& layout, ReadCheck& check,
                    size_t bufferSize);

}  // namespace backrest::cmd
