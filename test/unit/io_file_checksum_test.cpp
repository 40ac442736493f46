// File checksums: XXH3-128 against xxHash's own vectors, streaming equal to one-shot, SHA-256
// through the same interface, and the algorithm told by a recorded checksum's length.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/error.h"
#include "io/file_checksum.h"
#include "io/filter_chain.h"

namespace backrest::io {
namespace {

// xxh128sum of an empty input (XXH3_128bits, seed 0, canonical form: high 64 bits first).
constexpr const char* kXxh3Empty = "99aa06d3014798d86001c324468d497f";
constexpr const char* kSha256Abc =
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

std::string chainHex(ChecksumType type, const std::vector<uint8_t>& data, size_t piece) {
    FilterChain chain([](std::span<const uint8_t>) {});
    auto& sum = chain.add<ChecksumFilter>(type);
    std::span<const uint8_t> all(data);
    for (size_t at = 0; at < all.size(); at += piece)
        chain.write(all.subspan(at, std::min(piece, all.size() - at)));
    chain.finish();
    return sum.hex();
}

TEST(IoFileChecksum, Xxh3KnownVectorAndForm) {
    EXPECT_EQ(checksumHex(ChecksumType::Xxh3, std::string_view("")), kXxh3Empty);
    std::string abc = checksumHex(ChecksumType::Xxh3, std::string_view("abc"));
    EXPECT_EQ(abc.size(), 32u);
    EXPECT_NE(abc, kXxh3Empty);
    EXPECT_EQ(checksumTypeOf(abc), ChecksumType::Xxh3);
}

TEST(IoFileChecksum, Sha256ThroughTheSameInterface) {
    EXPECT_EQ(checksumHex(ChecksumType::Sha256, std::string_view("abc")), kSha256Abc);
    EXPECT_EQ(checksumTypeOf(kSha256Abc), ChecksumType::Sha256);
}

TEST(IoFileChecksum, StreamingInUnevenPiecesEqualsOneShot) {
    // Past XXH3's 1 KiB stripes and 64 KiB internal buffer, cut at sizes that straddle both.
    std::vector<uint8_t> data(3 * 1024 * 1024 + 17);
    for (size_t i = 0; i < data.size(); i++)
        data[i] = static_cast<uint8_t>((i * 2654435761u) >> 13);
    for (auto type : {ChecksumType::Xxh3, ChecksumType::Sha256}) {
        std::string whole = checksumHex(type, std::span<const uint8_t>(data));
        for (size_t piece : {1u, 63u, 1000u, 65537u, 1u << 20})
            EXPECT_EQ(chainHex(type, data, piece), whole)
                << checksumTypeName(type) << " piece " << piece;
    }
    // One changed byte anywhere changes the checksum.
    std::string before = checksumHex(ChecksumType::Xxh3, std::span<const uint8_t>(data));
    data[data.size() / 2] ^= 1;
    EXPECT_NE(checksumHex(ChecksumType::Xxh3, std::span<const uint8_t>(data)), before);
}

TEST(IoFileChecksum, TypeOfARecordedChecksum) {
    EXPECT_EQ(checksumTypeOf(std::string(32, 'a')), ChecksumType::Xxh3);
    EXPECT_EQ(checksumTypeOf(std::string(64, '0')), ChecksumType::Sha256);
    EXPECT_EQ(checksumTypeOf(""), std::nullopt);
    EXPECT_EQ(checksumTypeOf(std::string(40, 'a')), std::nullopt);  // SHA-1 length: not ours
    EXPECT_EQ(checksumTypeOf(std::string(31, 'a') + "G"), std::nullopt);
    EXPECT_EQ(checksumTypeOf(std::string(32, 'A')), std::nullopt);  // recorded lowercase only
    try {
        checksumTypeOf("abc", "file 'pg_data/base/1/1259' of backup 20261122-010000F");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::Format);
        EXPECT_NE(
            std::string(e.what()).find("file 'pg_data/base/1/1259' of backup 20261122-010000F"),
            std::string::npos)
            << e.what();
        EXPECT_NE(std::string(e.what()).find("'abc'"), std::string::npos) << e.what();
    }
}

TEST(IoFileChecksum, OptionValues) {
    EXPECT_EQ(parseChecksumType("xxh3"), ChecksumType::Xxh3);
    EXPECT_EQ(parseChecksumType("sha256"), ChecksumType::Sha256);
    EXPECT_EQ(checksumTypeName(ChecksumType::Xxh3), "xxh3");
    EXPECT_EQ(checksumAlgorithm(ChecksumType::Sha256), "SHA-256");
    try {
        parseChecksumType("md5");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::Option);
        EXPECT_NE(std::string(e.what()).find("checksum-type 'md5'"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace backrest::io
