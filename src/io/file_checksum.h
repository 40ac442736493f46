// The checksum a backup records for each file's original bytes, rechecked on every restore and
// verify and compared by delta restore: XXH3-128 by default, SHA-256 on request
// (`checksum-type`).
//
// Why XXH3-128 by default: the checksum is read by every backup, restore and delta restore, and
// SHA-256 (1.3 GB/s with SHA-NI on one core) costs as much CPU as a fifth of a zstd-3 backup;
// XXH3 runs at memory speed. Its job is to catch damage (disk, network, a bug), for which a
// 128-bit hash misses one change in 2^128; it is not a defence against someone who can rewrite
// the repository, who could rewrite the manifest as well. pgBackRest records SHA-1 and
// pg_basebackup's manifests CRC-32C by default, for the same reason.
//
// A recorded checksum says its own algorithm by its length (32 hex digits: XXH3-128, 64:
// SHA-256), so backups of either kind mix freely in one chain: an incremental backup refers to
// a prior backup's file with the checksum that backup recorded.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "io/filter.h"
#include "io/sha256.h"

namespace backrest::io {

enum class ChecksumType { Xxh3, Sha256 };

// The option's values: "xxh3" and "sha256". Anything else raises an Option error.
ChecksumType parseChecksumType(std::string_view name);
std::string_view checksumTypeName(ChecksumType type);
// For messages: "XXH3-128" or "SHA-256".
std::string_view checksumAlgorithm(ChecksumType type);
// The algorithm of a recorded checksum (lowercase hex), or nullopt when it is neither form.
std::optional<ChecksumType> checksumTypeOf(std::string_view hex);
// As checksumTypeOf, for a checksum about to be checked: raises a Format error naming `what`
// when the recorded value is not a checksum at all.
ChecksumType checksumTypeOf(std::string_view hex, std::string_view what);

class ChecksumFilter : public Filter {
  public:
    // `thread` applies to SHA-256 only: XXH3 is cheaper than handing the bytes to a thread.
    explicit ChecksumFilter(ChecksumType type,
                            Sha256Filter::Thread thread = Sha256Filter::Thread::Caller);
    ~ChecksumFilter() override;
    bool transforms() const override { return false; }
    void process(std::span<const uint8_t> in, Buffer& out) override;
    void finish(Buffer& out) override;
    // Lowercase hex digest; valid after finish().
    const std::string& hex() const;

  private:
    struct Xxh3;
    std::unique_ptr<Xxh3> xxh3_;
    std::unique_ptr<Sha256Filter> sha256_;
    std::string hex_;
};

// One-shot checksum of a buffer, lowercase hex.
std::string checksumHex(ChecksumType type, std::span<const uint8_t> bytes);
std::string checksumHex(ChecksumType type, std::string_view text);

}  // namespace backrest::io
