// The repository codec: what is applied to a file or frame before it is stored, and its inverse
// when it is read back. Built once from the repository's settings (worker/context.cpp); every
// store, fetch, verify and WAL copy pushes its chain here, so a new stage (encryption, next)
// touches this file only. Unencrypted, stored bytes are those of 0.1.0: a zstd stream or frame,
// or plain. With a repository key, the compressed bytes are then sealed (crypto/sealed.h): a
// whole file as one unit, each frame as a unit of its own, bound to its piece and index.
//
// The piece names what the bytes are, whatever object holds them: the repository path the file
// would have alone, without compression extension — Layout::backupFile(label, name, "") for a
// backup file (bundled or not; a block frame uses the label of the backup that stored it), a WAL
// segment's path without its extension, a metadata file's path without ".copy".
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/repo_key.h"
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
    // (decodeFrame), when the codec has frames (zstd, lz4). Their stored sizes: FrameIndex.
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

    // This codec, sealing with `key` (nullptr: not encrypted).
    RepoCodec withKey(std::shared_ptr<const crypto::RepoKey> key) const;
    bool encrypted() const { return key_ != nullptr; }
    const std::shared_ptr<const crypto::RepoKey>& key() const { return key_; }

    // The codec a file stored with `compressType` is read with: this repository's other stages
    // (encryption, next) with the compression recorded for that file (a backup's manifest, a WAL
    // segment's extension). The level does not matter for reading.
    RepoCodec storedWith(io::CompressType compressType) const;

    io::CompressType compressType() const { return compressType_; }
    int compressLevel() const { return compressLevel_; }
    // The stored file's name ends with it: ".zst", ".lz4", or "".
    std::string_view extension() const { return io::compressExtension(compressType_); }
    // Whether EncodeShape::frameBytes gives frames that decode alone.
    bool hasFrames() const { return compressType_ != io::CompressType::None; }

    // Write side: pushes onto `chain` what turns original bytes into stored bytes. Returns the
    // frame index when the shape asked for frames and the codec has them, else nullptr (owned
    // by the chain).
    const FrameIndex* pushEncode(io::FilterChain& chain, const std::string& piece,
                                 const EncodeShape& shape = {}) const;
    // Read side: pushes the inverse. `context` names the stored file (and range) in errors;
    // damaged input raises CompressError, or CryptoError when sealed (a wrong piece too).
    void pushDecode(io::FilterChain& chain, const std::string& piece, std::string context) const;
    // Stored bytes of `fromPiece` made those of `toPiece` (a resumed backup's file, written
    // under the new label): sealed units opened and sealed again, nothing decompressed. Pushes
    // nothing when not encrypted.
    void pushReseal(io::FilterChain& chain, const std::string& fromPiece,
                    const std::string& toPiece, std::string context) const;

    // One frame alone: appends `in` encoded to `out`, as frame `frameIndex` of `piece`.
    void encodeFrame(std::span<const uint8_t> in, const std::string& piece, uint64_t frameIndex,
                     io::Buffer& out) const;
    // Replaces `out` with frame `in` decoded; CompressError (CryptoError when sealed) naming
    // `context` unless it is exactly frame `frameIndex` of `piece` holding `originalLength`
    // bytes. A codec that stores bytes as they are copies them (and checks the length).
    void decodeFrame(std::span<const uint8_t> in, const std::string& piece, uint64_t frameIndex,
                     size_t originalLength, io::Buffer& out, const std::string& context) const;

  private:
    io::CompressType compressType_ = io::CompressType::None;
    int compressLevel_ = 0;
    std::shared_ptr<const crypto::RepoKey> key_;
};

}  // namespace backrest::repo
