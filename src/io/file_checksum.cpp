// File checksums: XXH3-128 (libxxhash, streaming state) or SHA-256 (Sha256Filter).
#include "io/file_checksum.h"

#include <xxhash.h>

#include <algorithm>

#include "common/error.h"

namespace backrest::io {

namespace {

constexpr size_t kXxh3HexSize = 32;
constexpr size_t kSha256HexSize = 64;

bool isLowerHex(std::string_view text) {
    return std::all_of(text.begin(), text.end(),
                       [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

ChecksumType parseChecksumType(std::string_view name) {
    if (name == "xxh3") return ChecksumType::Xxh3;
    if (name == "sha256") return ChecksumType::Sha256;
    raise(ErrorCode::Option, "checksum-type '{}' is not valid: use xxh3 or sha256", name);
}

std::string_view checksumTypeName(ChecksumType type) {
    return type == ChecksumType::Xxh3 ? "xxh3" : "sha256";
}

std::string_view checksumAlgorithm(ChecksumType type) {
    return type == ChecksumType::Xxh3 ? "XXH3-128" : "SHA-256";
}

std::optional<ChecksumType> checksumTypeOf(std::string_view hex) {
    if (!isLowerHex(hex)) return std::nullopt;
    if (hex.size() == kXxh3HexSize) return ChecksumType::Xxh3;
    if (hex.size() == kSha256HexSize) return ChecksumType::Sha256;
    return std::nullopt;
}

ChecksumType checksumTypeOf(std::string_view hex, std::string_view what) {
    auto type = checksumTypeOf(hex);
    if (!type)
        raise(ErrorCode::Format,
              "{}: recorded checksum '{}' is neither XXH3-128 (32 hex digits) nor SHA-256 (64)",
              what, hex);
    return *type;
}

struct ChecksumFilter::Xxh3 {
    XXH3_state_t* state = XXH3_createState();
    ~Xxh3() { XXH3_freeState(state); }
};

ChecksumFilter::ChecksumFilter(ChecksumType type, Sha256Filter::Thread thread) {
    if (type == ChecksumType::Sha256) {
        sha256_ = std::make_unique<Sha256Filter>(thread);
        return;
    }
    xxh3_ = std::make_unique<Xxh3>();
    if (xxh3_->state == nullptr || XXH3_128bits_reset(xxh3_->state) != XXH_OK)
        raise(ErrorCode::Crypto, "unable to initialise an XXH3-128 state");
}

ChecksumFilter::~ChecksumFilter() = default;

void ChecksumFilter::process(std::span<const uint8_t> in, Buffer& out) {
    if (sha256_) return sha256_->process(in, out);
    if (!hex_.empty()) raise(ErrorCode::Assert, "XXH3-128 updated after finish()");
    if (!in.empty() && XXH3_128bits_update(xxh3_->state, in.data(), in.size()) != XXH_OK)
        raise(ErrorCode::Crypto, "XXH3-128 update failed");
}

void ChecksumFilter::finish(Buffer& out) {
    if (sha256_) return sha256_->finish(out);
    if (!hex_.empty()) return;
    XXH128_canonical_t canonical;
    XXH128_canonicalFromHash(&canonical, XXH3_128bits_digest(xxh3_->state));
    static constexpr char kDigits[] = "0123456789abcdef";
    hex_.reserve(kXxh3HexSize);
    for (unsigned char byte : canonical.digest) {
        hex_.push_back(kDigits[byte >> 4]);
        hex_.push_back(kDigits[byte & 0x0f]);
    }
}

const std::string& ChecksumFilter::hex() const {
    return sha256_ ? sha256_->hex() : hex_;
}

std::string checksumHex(ChecksumType type, std::span<const uint8_t> bytes) {
    ChecksumFilter filter(type);
    Buffer unused;
    filter.process(bytes, unused);
    filter.finish(unused);
    return filter.hex();
}

std::string checksumHex(ChecksumType type, std::string_view text) {
    return checksumHex(type, std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

}  // namespace backrest::io
