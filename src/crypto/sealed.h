// Sealed units: the repository's authenticated encryption, AES-256-GCM. One unit is what a
// stored file, a frame of a framed file, a block-incremental frame, a bundle member, a WAL
// segment or a metadata file becomes after compression:
//
//   "BRS1" | salt (16 random bytes) | chunk | chunk | ...
//   chunk = length (4 bytes LE: plaintext bytes, bit 31 set on the last chunk) | ciphertext | tag
//   (16)
//
// The unit's key is HKDF-SHA256(repository key, salt, "backrest unit v1" | piece | unit index):
// a unit opens only as the piece it was sealed for (its repository path, crypto-independent of
// where the bytes are found) at the position it was sealed at (a frame's index in its file).
// Swapping two files, two frames or two WAL segments fails authentication instead of restoring
// wrong bytes. Each chunk's nonce is its index and its length header is authenticated, so
// reordered, dropped or cut chunks fail too, and the last-chunk bit catches a unit cut at a
// chunk boundary. A unit is at most 64 KiB of plaintext per chunk: a reader holds one chunk.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "crypto/repo_key.h"
#include "io/buffer.h"
#include "io/filter.h"

namespace backrest::crypto {

constexpr size_t kSealChunkBytes = 64 * 1024;
constexpr size_t kSealHeaderBytes = 4 + 16;    // magic, salt
constexpr size_t kSealChunkOverhead = 4 + 16;  // length, tag

// The sealed size of `plainBytes` bytes sealed as one unit.
uint64_t sealedSize(uint64_t plainBytes);
// Whether `prefix` (at least 4 bytes) starts a sealed unit.
bool looksSealed(std::span<const uint8_t> prefix);

// Appends `in` sealed as one unit to `out`.
void sealUnit(const RepoKey& key, std::string_view piece, uint64_t unitIndex,
              std::span<const uint8_t> in, io::Buffer& out);
// Replaces `out` with the unit `in` opened. CryptoError naming `context` unless `in` is exactly
// one unit sealed for (piece, unitIndex) and undamaged.
void openUnit(const RepoKey& key, std::string_view piece, uint64_t unitIndex,
              std::span<const uint8_t> in, io::Buffer& out, const std::string& context);

// Streaming: the whole input sealed as unit `unitIndex`.
std::unique_ptr<io::Filter> makeSealFilter(std::shared_ptr<const RepoKey> key, std::string piece,
                                           uint64_t unitIndex = 0);
// Streaming: opens one unit, or several consecutive units (unit k bound to index k: a file
// stored as frames, read whole). CryptoError naming `context`, the unit and the chunk on damage,
// a wrong piece or position, or a stream cut short (finish()).
std::unique_ptr<io::Filter> makeOpenFilter(std::shared_ptr<const RepoKey> key, std::string piece,
                                           std::string context);

// Whole texts (metadata files).
std::string sealText(const RepoKey& key, std::string_view piece, std::string_view text);
std::string openText(const RepoKey& key, std::string_view piece, std::string_view sealed,
                     const std::string& context);

}  // namespace backrest::crypto
