// The repository codec: what is applied to a file or frame before it is stored, and its inverse
// when it is read back. Built once from the repository's settings (worker/context.cpp); every
// store, fetch, verify and WAL copy pushes its chain here, so a new stage (encryption, next)
// touches this file only. Stored bytes are those of 0.1.0: a zstd stream or frame, or plain.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "io/buffer.h"
#include "io/compress.h"
#include "io/filter_chain.h"

namespace backrest::repo {

// How a whole file is encoded, beyond the codec's settings.
struct EncodeShape {
    // Threads compressing beside the caller (0: the caller does).
    int workers = 0;
    // About how many original bytes will pass (0: unknown); sizes the compressor's tables.
    uint64_t sizeHint = 0;
    // > 0: stored as independent frames of this many original bytes, each decodable alone
    // (decodeFrame), when the codec has frames (zstd). Their stored sizes: FrameIndex.
    uint64_t frameBytes = 0;
};

// The stored size of each frame of a file encoded with EncodeShape::frameBytes, complete after
// the chain's finish(): empty or one frame means the file is one ordinary stream.
class FrameIndex {
  public:
    virtual ~FrameIndex() = default;
    virtual const std::vector<uint64_t>& frameSizes() const = 0;
};

class RepoCodec {
  public:
    RepoCodec() = default;  // stores bytes as they are
    RepoCodec(io::CompressType compressType, int compressLevel)
        : compressType_(compressType), compressLevel_(compressLevel) {}
    // For reading a file stored with `compressType` where the repository's settings are not at
    // hand (the level matters only for writing).
    explicit RepoCodec(io::CompressType compressType) : compressType_(compressType) {}

    // The codec a file stored with `compressType` is read with: this repository's other stages
    // (encryption, next) with the compression recorded for that file (a backup's manifest, a WAL
    // segment's extension). The level does not matter for reading.
    RepoCodec storedWith(io::CompressType compressType) const;

    io::CompressType compressType() const { return compressType_; }
    int compressLevel() const { return compressLevel_; }
    // The stored file's name ends with it: ".zst", or "".
    std::string_view extension() const { return io::compressExtension(compressType_); }
    // Whether EncodeShape::frameBytes gives frames that decode alone.
    bool hasFrames() const { return compressType_ == io::CompressType::Zst; }

    // Write side: pushes onto `chain` what turns original bytes into stored bytes. Returns the
    // frame index when the shape asked for frames and the codec has them, else nullptr (owned
    // by the chain).
    const FrameIndex* pushEncode(io::FilterChain& chain, const EncodeShape& shape = {}) const;
    // Read side: pushes the inverse. `context` names the stored file (and range) in errors;
    // damaged input raises CompressError.
    void pushDecode(io::FilterChain& chain, std::string context) const;

    // One frame alone: appends `in` encoded to `out`.
    void encodeFrame(std::span<const uint8_t> in, io::Buffer& out) const;
    // Replaces `out` with frame `in` decoded; CompressError naming `context` unless it is exactly
    // one frame holding `originalLength` bytes. A codec that stores bytes as they are copies them
    // (and checks the length).
    void decodeFrame(std::span<const uint8_t> in, size_t originalLength, io::Buffer& out,
                     const std::string& context) const;

  private:
    io::CompressType compressType_ = io::CompressType::None;
    int compressLevel_ = 0;
};

}  // namespace backrest::repo
