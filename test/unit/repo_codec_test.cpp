// The repository codec: a file's chain and a frame round-trip, and what it writes is byte for
// byte what 0.1.0 wrote (a plain zstd stream, frames that are ordinary zstd frames, or the bytes).
// Encrypted: repo_codec_sealed_test.cpp.
#include <gtest/gtest.h>
#include <zstd.h>

#include <string>

#include "io/filter_chain.h"
#include "io/sha256.h"
#include "repo/codec.h"
#include "test_support.h"

namespace backrest::repo {
namespace {

std::span<const uint8_t> bytesOf(const std::string& s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::string sample(size_t n) {
    std::string s(n, '\0');
    for (size_t i = 0; i < n; i++) s[i] = static_cast<char>((i * 7) % 13 + (i / 4096) % 5);
    return s;
}

std::string run(const std::string& in, const std::function<void(io::FilterChain&)>& push) {
    std::string out;
    io::FilterChain chain([&](std::span<const uint8_t> b) { out.append(b.begin(), b.end()); });
    push(chain);
    chain.write(bytesOf(in));
    chain.finish();
    return out;
}

TEST(RepoCodec, FileRoundTripAndItsStoredBytesAreZstd) {
    std::string original = sample(300000);
    for (auto type : {io::CompressType::None, io::CompressType::Zst}) {
        RepoCodec codec(type, 3);
        std::string stored =
            run(original, [&](io::FilterChain& c) { EXPECT_EQ(codec.pushEncode(c, "p"), nullptr); });
        EXPECT_EQ(run(stored, [&](io::FilterChain& c) { RepoCodec(type).pushDecode(c, "p", "f"); }),
                  original);
        if (type == io::CompressType::None) {
            EXPECT_EQ(stored, original);
            EXPECT_EQ(codec.extension(), "");
        } else {
            EXPECT_EQ(codec.extension(), ".zst");
            std::string plain(original.size(), '\0');
            EXPECT_EQ(ZSTD_decompress(plain.data(), plain.size(), stored.data(), stored.size()),
                      original.size());
            EXPECT_EQ(plain, original);
        }
    }
}

TEST(RepoCodec, FramesAreIndexedAndDecodeAlone) {
    std::string original = sample(70000);
    RepoCodec codec(io::CompressType::Zst, 3);
    std::string stored;
    io::FilterChain chain([&](std::span<const uint8_t> b) { stored.append(b.begin(), b.end()); });
    const FrameIndex* index = codec.pushEncode(chain, "p", {.frameBytes = 32768});
    ASSERT_NE(index, nullptr);
    chain.write(bytesOf(original));
    chain.finish();
    ASSERT_EQ(index->frameSizes().size(), 3u);
    size_t offset = 0;
    for (size_t k = 0; k < 3; k++) {
        io::Buffer out;
        size_t length = std::min<size_t>(32768, original.size() - k * 32768);
        codec.decodeFrame(bytesOf(stored).subspan(offset, index->frameSizes()[k]), "p", k, length,
                          out, "f");
        EXPECT_EQ(std::string(reinterpret_cast<const char*>(out.data()), out.size()),
                  original.substr(k * 32768, length));
        offset += index->frameSizes()[k];
    }
    // An ordinary zstd stream: decompressed whole by any reader.
    EXPECT_EQ(run(stored,
                  [&](io::FilterChain& c) { RepoCodec(io::CompressType::Zst).pushDecode(c, "p", "f"); }),
              original);
    EXPECT_EQ(offset, stored.size());
    // No frames without zstd: one plain stream.
    io::FilterChain plain([](std::span<const uint8_t>) {});
    EXPECT_EQ(RepoCodec().pushEncode(plain, "p", {.frameBytes = 32768}), nullptr);
}

TEST(RepoCodec, OneFrameRoundTripAndDamageIsACompressError) {
    std::string original = sample(65536);
    for (auto type : {io::CompressType::None, io::CompressType::Zst}) {
        RepoCodec codec(type, 3);
        io::Buffer frame, back;
        codec.encodeFrame(bytesOf(original), "p", 0, frame);
        codec.storedWith(type).decodeFrame(frame.span(), "p", 0, original.size(), back, "blocks");
        EXPECT_EQ(std::string(reinterpret_cast<const char*>(back.data()), back.size()), original);
        Error e = test::errorOf([&] {
            codec.decodeFrame(frame.span().first(frame.size() - 1), "p", 0, original.size(), back,
                              "blocks");
        });
        EXPECT_EQ(e.code(), ErrorCode::Compress);
        EXPECT_TRUE(test::has(e.what(), "blocks")) << e.what();
    }
}

TEST(RepoCodec, StoredWithKeepsTheRestAndTakesTheFilesCompression) {
    RepoCodec codec(io::CompressType::Zst, 7);
    RepoCodec stored = codec.storedWith(io::CompressType::None);
    EXPECT_EQ(stored.compressType(), io::CompressType::None);
    EXPECT_EQ(stored.compressLevel(), 7);
    EXPECT_FALSE(stored.hasFrames());
    EXPECT_TRUE(codec.hasFrames());
}

// Without a key the stored bytes are those the codec wrote before encryption existed: SHA-256
// of each taken from main's build (6563961) with the same input, whatever the piece and index.
TEST(RepoCodec, UnencryptedOutputIsByteForByteThatOfBeforeEncryption) {
    std::string original = sample(300000);
    auto stored = [&](uint64_t frameBytes) {
        return run(original, [&](io::FilterChain& c) {
            RepoCodec(io::CompressType::Zst, 3).pushEncode(c, "backup/main/x/pg_data/f", {.frameBytes = frameBytes});
        });
    };
    EXPECT_EQ(io::sha256Hex(stored(0)), "d4a375f88e414f902f88017c077ba0f22d9ec38b1f19ad17c498c5326b2b34dd");
    EXPECT_EQ(io::sha256Hex(stored(65536)), "d379378bd986c5861f28611b8276b9b21ec89b89535599c3ef622d3bc3456782");
    io::Buffer frame;
    RepoCodec(io::CompressType::Zst, 3).encodeFrame(bytesOf(original).first(65536), "p", 7, frame);
    EXPECT_EQ(io::sha256Hex(frame.span()), "752ffb61b1809761db40540f0c93f75c0385cf6b9bed876783ddaa50d684fbb5");
    EXPECT_FALSE(RepoCodec(io::CompressType::Zst, 3).encrypted());
    // Resealing an unencrypted file is no stage at all: the bytes pass as they are.
    std::string plain = stored(0);
    EXPECT_EQ(run(plain, [&](io::FilterChain& c) { RepoCodec(io::CompressType::Zst).pushReseal(c, "a", "b", "f"); }),
              plain);
}

}  // namespace
}  // namespace backrest::repo
