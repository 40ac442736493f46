// The repository codec with compress-type=lz4: files whole and as frames, plain and sealed, read
// back with the codec recorded for them (a zst repository's codec reads an lz4 backup's files).
#include <gtest/gtest.h>

#include <array>
#include <string>

#include "io/filter_chain.h"
#include "repo/codec.h"
#include "test_support.h"

namespace backrest::repo {
namespace {

using test::errorOf;
using test::has;

std::span<const uint8_t> bytesOf(const std::string& s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::string sample(size_t n) {
    std::string s(n, '\0');
    for (size_t i = 0; i < n; i++)
        s[i] = static_cast<char>((i * 7) % 13 + (i / 4096) % 5 + (i % 251 == 0 ? i : 0));
    return s;
}

std::shared_ptr<const crypto::RepoKey> testKey() {
    std::array<uint8_t, crypto::kRepoKeyBytes> bytes{};
    for (size_t i = 0; i < bytes.size(); i++) bytes[i] = static_cast<uint8_t>(7 + i);
    return std::make_shared<const crypto::RepoKey>(bytes);
}

const std::string kPiece = "backup/main/20261205-000000F_20261205-010000D/pg_data/base/1/16384";

struct Stored {
    std::string bytes;
    std::vector<uint64_t> frames;
};

Stored encode(const RepoCodec& codec, const std::string& in, uint64_t frameBytes) {
    Stored s;
    io::FilterChain chain([&](std::span<const uint8_t> b) { s.bytes.append(b.begin(), b.end()); });
    const FrameIndex* index = codec.pushEncode(chain, kPiece, {.frameBytes = frameBytes});
    chain.write(bytesOf(in));
    chain.finish();
    if (index) s.frames = index->frameSizes();
    return s;
}

std::string decodeWhole(const RepoCodec& codec, const std::string& stored) {
    std::string out;
    io::FilterChain chain([&](std::span<const uint8_t> b) { out.append(b.begin(), b.end()); });
    codec.pushDecode(chain, kPiece, "'/repo/16384.lz4'");
    chain.write(bytesOf(stored));
    chain.finish();
    return out;
}

TEST(RepoCodecLz4, WholeAndFramedPlainAndSealed) {
    std::string original = sample(200000);
    for (bool sealed : {false, true}) {
        RepoCodec codec(io::CompressType::Lz4, 1);
        if (sealed) codec = codec.withKey(testKey());
        EXPECT_EQ(codec.extension(), ".lz4");
        EXPECT_TRUE(codec.hasFrames());
        // Read with the codec of a zst repository told the file is lz4 (a mixed backup set).
        RepoCodec reader = RepoCodec(io::CompressType::Zst, 3)
                               .withKey(sealed ? codec.key() : nullptr)
                               .storedWith(io::CompressType::Lz4);
        Stored whole = encode(codec, original, 0);
        EXPECT_TRUE(whole.frames.empty());
        EXPECT_LT(whole.bytes.size(), original.size());
        EXPECT_EQ(decodeWhole(reader, whole.bytes), original);

        Stored framed = encode(codec, original, 65536);
        ASSERT_EQ(framed.frames.size(), 4u) << sealed;
        size_t offset = 0;
        for (size_t k = 0; k < framed.frames.size(); k++) {
            io::Buffer out;
            size_t length = std::min<size_t>(65536, original.size() - k * 65536);
            reader.decodeFrame(bytesOf(framed.bytes).subspan(offset, framed.frames[k]), kPiece, k,
                               length, out, "f");
            EXPECT_EQ(std::string(reinterpret_cast<const char*>(out.data()), out.size()),
                      original.substr(k * 65536, length));
            offset += framed.frames[k];
        }
        if (!sealed) {
            EXPECT_EQ(decodeWhole(reader, framed.bytes), original);
        }

        // One flipped byte inside the second frame.
        std::string damaged = framed.bytes.substr(framed.frames[0], framed.frames[1]);
        damaged[damaged.size() / 2] ^= 0x08;
        io::Buffer out;
        auto e = errorOf([&] {
            reader.decodeFrame(bytesOf(damaged), kPiece, 1, 65536, out, "'/repo/16384.lz4'");
        });
        EXPECT_EQ(e.code(), sealed ? ErrorCode::Crypto : ErrorCode::Compress) << e.what();
        EXPECT_TRUE(has(e.what(), "/repo/16384.lz4")) << e.what();
    }
}

// A block-stored file's frames (encodeFrame): lz4 frames that decode alone.
TEST(RepoCodecLz4, OneFrameAlone) {
    std::string block = sample(131072);
    RepoCodec codec(io::CompressType::Lz4, 1);
    io::Buffer frame, out;
    codec.encodeFrame(bytesOf(block), kPiece, 3, frame);
    EXPECT_LT(frame.size(), block.size());
    codec.decodeFrame(frame.span(), kPiece, 3, block.size(), out, "f");
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(out.data()), out.size()), block);
    EXPECT_EQ(errorOf([&] { codec.decodeFrame(frame.span(), kPiece, 3, 5, out, "f"); }).code(),
              ErrorCode::Compress);
}

}  // namespace
}  // namespace backrest::repo
