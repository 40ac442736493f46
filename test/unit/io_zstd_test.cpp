// zstd filters through real chains: round trips, a >4 GiB stream, corruption, compress types.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/error.h"
#include "io/compress.h"
#include "io/filter_chain.h"
#include "io/frame_codec.h"
#include "io/sha256.h"
#include "io/size.h"
#include "io/zstd.h"

namespace backrest::io {
namespace {

using Bytes = std::vector<uint8_t>;
constexpr size_t kBlock = size_t{1} << 20;
constexpr int kLevel = 3;
constexpr const char* kContext = "pg_data/base/1/1259.zst";

struct Compressed {
    Bytes bytes;
    std::string sha;      // of the original bytes
    uint64_t size = 0;    // original bytes counted before the compressor
    uint64_t packed = 0;  // bytes counted after the compressor
};

struct Restored {
    Bytes bytes;  // only kept when asked for
    std::string sha;
    uint64_t size = 0;
    size_t largestChunk = 0;
};

void feed(FilterChain& chain, std::span<const uint8_t> data, size_t block) {
    for (size_t at = 0; at < data.size(); at += block) {
        chain.write(data.subspan(at, std::min(block, data.size() - at)));
    }
}

Compressed compress(std::span<const uint8_t> data, size_t block = kBlock, int level = kLevel) {
    Compressed result;
    FilterChain chain([&](std::span<const uint8_t> b) {
        result.bytes.insert(result.bytes.end(), b.begin(), b.end());
    });
    auto& sha = chain.add<Sha256Filter>();
    auto& size = chain.add<SizeFilter>();
    chain.add<ZstdCompressFilter>(level);
    auto& packed = chain.add<SizeFilter>();
    feed(chain, data, block);
    chain.finish();
    result.sha = sha.hex();
    result.size = size.bytes();
    result.packed = packed.bytes();
    return result;
}

Restored decompress(std::span<const uint8_t> data, bool keep = true, size_t block = kBlock) {
    Restored result;
    FilterChain chain([&](std::span<const uint8_t> b) {
        result.largestChunk = std::max(result.largestChunk, b.size());
        if (keep) result.bytes.insert(result.bytes.end(), b.begin(), b.end());
    });
    chain.add<ZstdDecompressFilter>(kContext);
    auto& sha = chain.add<Sha256Filter>();
    auto& size = chain.add<SizeFilter>();
    feed(chain, data, block);
    chain.finish();
    result.sha = sha.hex();
    result.size = size.bytes();
    return result;
}

Bytes randomBytes(size_t n, uint64_t seed) {
    std::mt19937_64 rng(seed);
    Bytes out(n);
    for (size_t i = 0; i < n; i += 8) {
        uint64_t word = rng();
        std::memcpy(out.data() + i, &word, std::min<size_t>(8, n - i));
    }
    return out;
}

// Runs `body` and returns the backrest::Error it throws (a test failure if none).
template <typename Body>
Error errorFrom(Body body) {
    try {
        body();
    } catch (const Error& e) {
        return e;
    }
    ADD_FAILURE() << "no backrest::Error thrown";
    return Error(ErrorCode::Assert, "<none>");
}

void expectRoundTrip(const Bytes& data) {
    Compressed packed = compress(data);
    EXPECT_EQ(packed.size, data.size());
    EXPECT_EQ(packed.sha, sha256Hex(std::span<const uint8_t>(data)));
    EXPECT_EQ(packed.packed, packed.bytes.size());
    Restored back = decompress(packed.bytes);
    EXPECT_EQ(back.size, data.size());
    EXPECT_EQ(back.sha, packed.sha);
    EXPECT_TRUE(back.bytes == data) << "restored bytes differ";
}

TEST(IoZstdTest, RoundTripEmptyInput) {
    Compressed packed = compress({});
    EXPECT_GT(packed.bytes.size(), 0u) << "an empty file still gets a frame";
    EXPECT_EQ(packed.size, 0u);
    EXPECT_EQ(packed.sha, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expectRoundTrip({});
}

TEST(IoZstdTest, RoundTripOneByte) {
    expectRoundTrip({0x42});
}

// The size hint is the file's size when the backup started; a relation file may grow or shrink
// while it is read. Either way the stream must come back whole (a pledged size would fail).
TEST(IoZstdTest, WrongSizeHintStillRoundTrips) {
    Bytes grown = randomBytes(3 << 20, 7);
    std::fill(grown.begin(), grown.begin() + (1 << 20), 0x11);  // some of it compressible
    for (uint64_t hint : {uint64_t{8192}, uint64_t{64} << 20}) {
        for (int level : {3, 12, 19}) {
            SCOPED_TRACE(fmt::format("hint {} level {}", hint, level));
            Bytes packed;
            FilterChain chain([&](std::span<const uint8_t> b) {
                packed.insert(packed.end(), b.begin(), b.end());
            });
            chain.push(makeCompressFilter(CompressType::Zst, level, 0, hint));
            feed(chain, grown, kBlock);
            chain.finish();
            Restored back = decompress(packed);
            EXPECT_TRUE(back.bytes == grown);
        }
    }
}

TEST(IoZstdTest, RoundTripRandom10MiB) {
    Bytes data = randomBytes(10 << 20, 20240601);
    expectRoundTrip(data);
    // Feeding the compressed stream in odd block sizes changes nothing.
    Compressed packed = compress(data, 12345);
    EXPECT_EQ(decompress(packed.bytes, false, 7777).sha, packed.sha);
}

TEST(IoZstdTest, Compressible64MiBShrinksBelowOnePercentWithBoundedChunks) {
    // 8 KiB "pages" sharing content, each stamped with its page number.
    const Bytes page = randomBytes(8192, 7);
    Bytes data(64 << 20);
    for (size_t at = 0, n = 0; at < data.size(); at += page.size(), ++n) {
        std::memcpy(data.data() + at, page.data(), page.size());
        std::memcpy(data.data() + at, &n, sizeof n);
    }
    Compressed packed = compress(data);
    EXPECT_LT(packed.bytes.size(), data.size() / 100) << packed.bytes.size();
    Restored back = decompress(packed.bytes);
    EXPECT_EQ(back.sha, packed.sha);
    EXPECT_TRUE(back.bytes == data) << "restored bytes differ";
    // A few compressed KiB expand to 64 MiB, but the chain hands it on block by block.
    EXPECT_LE(back.largestChunk, kBlock);
}

TEST(IoZstdTest, MultiGigabyteStreamCountsPast32Bits) {
    const uint64_t total = uint64_t{4608} << 20;  // 4.5 GiB
    const Bytes zeros(kBlock, 0);                 // one reused block, never the whole stream
    auto zeroStream = [&](FilterChain& chain) {
        for (uint64_t at = 0; at < total; at += kBlock) chain.write(zeros);
        chain.finish();
    };

    // Second, independent pass for the reference digest, on the other core.
    std::string referenceSha;
    std::thread reference([&] {
        FilterChain chain([](std::span<const uint8_t>) {});
        auto& sha = chain.add<Sha256Filter>();
        zeroStream(chain);
        referenceSha = sha.hex();
    });

    Bytes packedBytes;
    FilterChain chain([&](std::span<const uint8_t> b) {
        packedBytes.insert(packedBytes.end(), b.begin(), b.end());
    });
    auto& sha = chain.add<Sha256Filter>();
    auto& size = chain.add<SizeFilter>();
    chain.add<ZstdCompressFilter>(kLevel);
    auto& packed = chain.add<SizeFilter>();
    zeroStream(chain);
    reference.join();

    EXPECT_EQ(size.bytes(), 4831838208u);
    EXPECT_EQ(packed.bytes(), packedBytes.size());
    EXPECT_EQ(sha.hex(), referenceSha);
    Restored back = decompress(packedBytes, false);
    EXPECT_EQ(back.size, 4831838208u);
    EXPECT_EQ(back.sha, sha.hex());
    EXPECT_LE(back.largestChunk, kBlock);
}

TEST(IoZstdTest, ConcatenatedFramesDecompress) {
    Bytes first = randomBytes(100000, 1);
    Bytes second(300000, 'z');
    Compressed a = compress(first);
    Compressed b = compress(second);
    Compressed c = compress({});
    Bytes joined = a.bytes;
    joined.insert(joined.end(), b.bytes.begin(), b.bytes.end());
    joined.insert(joined.end(), c.bytes.begin(), c.bytes.end());
    Bytes expected = first;
    expected.insert(expected.end(), second.begin(), second.end());
    for (size_t block : {size_t{1} << 20, size_t{1000}, size_t{1}}) {
        SCOPED_TRACE(block);
        Restored back = decompress(joined, true, block);
        EXPECT_TRUE(back.bytes == expected) << "restored bytes differ";
    }
}

TEST(IoZstdTest, TruncatedStreamFailsAtFinishNamingContext) {
    Compressed packed = compress(randomBytes(200000, 3));
    for (size_t keep : {packed.bytes.size() - 10, packed.bytes.size() - 1, packed.bytes.size() / 2,
                        size_t{5}, size_t{1}}) {
        SCOPED_TRACE(keep);
        FilterChain chain([](std::span<const uint8_t>) {});
        chain.add<ZstdDecompressFilter>(kContext);
        feed(chain, std::span<const uint8_t>(packed.bytes).first(keep), kBlock);
        Error e = errorFrom([&] { chain.finish(); });
        EXPECT_EQ(e.code(), ErrorCode::Compress);
        EXPECT_NE(std::string(e.what()).find(kContext), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
    }
}

TEST(IoZstdTest, EmptyCompressedStreamIsAnError) {
    FilterChain chain([](std::span<const uint8_t>) {});
    chain.add<ZstdDecompressFilter>(kContext);
    Error e = errorFrom([&] { chain.finish(); });
    EXPECT_EQ(e.code(), ErrorCode::Compress);
    EXPECT_NE(std::string(e.what()).find(kContext), std::string::npos) << e.what();
}

TEST(IoZstdTest, FlippedByteIsDetectedNamingContext) {
    Compressed packed = compress(randomBytes(1 << 20, 11));
    for (size_t at : {packed.bytes.size() / 2, packed.bytes.size() / 3}) {
        SCOPED_TRACE(at);
        Bytes damaged = packed.bytes;
        damaged[at] ^= 0x01;
        Error e = errorFrom([&] { decompress(damaged, false); });
        EXPECT_EQ(e.code(), ErrorCode::Compress);
        EXPECT_NE(std::string(e.what()).find(kContext), std::string::npos) << e.what();
    }
}

TEST(IoZstdTest, TrailingGarbageIsAnError) {
    Compressed packed = compress(Bytes(1000, 'q'));
    Bytes damaged = packed.bytes;
    damaged.insert(damaged.end(), {'j', 'u', 'n', 'k', '!', '!', '!', '!'});
    Error e = errorFrom([&] { decompress(damaged, false); });
    EXPECT_EQ(e.code(), ErrorCode::Compress);
    EXPECT_NE(std::string(e.what()).find(kContext), std::string::npos) << e.what();
}

TEST(IoZstdTest, CompressionIsDeterministic) {
    Bytes data = randomBytes(3 << 20, 5);
    std::memset(data.data() + (1 << 20), 'x', 1 << 20);  // a compressible middle
    Compressed first = compress(data);
    Compressed second = compress(data);
    EXPECT_TRUE(first.bytes == second.bytes) << "same input and level gave different bytes";
    EXPECT_FALSE(compress(data, kBlock, 1).bytes == first.bytes) << "level was ignored";
}

TEST(IoZstdTest, DecompressProcessWithoutChainReturnsEverything) {
    Bytes data(5 << 20, 'a');
    Compressed packed = compress(data);
    ZstdDecompressFilter filter(kContext);
    Buffer out;
    filter.process(packed.bytes, out);
    filter.finish(out);
    ASSERT_EQ(out.size(), data.size());
    EXPECT_EQ(std::memcmp(out.data(), data.data(), data.size()), 0);
}

TEST(IoCompressTest, TypesNamesAndExtensions) {
    EXPECT_EQ(parseCompressType("zst"), CompressType::Zst);
    EXPECT_EQ(parseCompressType("none"), CompressType::None);
    EXPECT_EQ(compressTypeName(CompressType::Zst), "zst");
    EXPECT_EQ(compressTypeName(CompressType::None), "none");
    EXPECT_EQ(compressExtension(CompressType::Zst), ".zst");
    EXPECT_EQ(compressExtension(CompressType::None), "");
    Error e = errorFrom([] { parseCompressType("gz"); });
    EXPECT_EQ(e.code(), ErrorCode::Option);
    EXPECT_STREQ(e.what(),
                 "invalid value 'gz' for option 'compress-type' (expected none, zst or lz4)");
}

TEST(IoCompressTest, FactoriesBuildWorkingFilters) {
    EXPECT_EQ(makeCompressFilter(CompressType::None, 3), nullptr);
    EXPECT_EQ(makeDecompressFilter(CompressType::None, kContext), nullptr);

    const std::string text(10000, 'r');
    Bytes packed;
    FilterChain up(
        [&](std::span<const uint8_t> b) { packed.insert(packed.end(), b.begin(), b.end()); });
    up.push(makeCompressFilter(CompressType::Zst, 3));
    up.write({reinterpret_cast<const uint8_t*>(text.data()), text.size()});
    up.finish();
    EXPECT_LT(packed.size(), text.size());

    std::string restored;
    FilterChain down([&](std::span<const uint8_t> b) { restored.append(b.begin(), b.end()); });
    down.push(makeDecompressFilter(CompressType::Zst, kContext));
    down.write(packed);
    down.finish();
    EXPECT_EQ(restored, text);
}

// zstd's own threads (a file larger than a thread's share of a backup): the same stream format,
// read back by the ordinary decompressor.
TEST(IoZstd, CompressedOnWorkerThreadsReadsBack) {
    std::mt19937 rng(11);
    std::string text(24 << 20, '\0');
    for (size_t i = 0; i < text.size(); i++)
        text[i] = i % 8192 < 200 ? static_cast<char>(rng()) : 'a' + i % 7;
    Bytes packed;
    FilterChain up(
        [&](std::span<const uint8_t> b) { packed.insert(packed.end(), b.begin(), b.end()); });
    up.push(makeCompressFilter(CompressType::Zst, 3, 2));
    for (size_t at = 0; at < text.size(); at += 1 << 20)
        up.write({reinterpret_cast<const uint8_t*>(text.data()) + at,
                  std::min<size_t>(1 << 20, text.size() - at)});
    up.finish();
    EXPECT_LT(packed.size(), text.size() / 4);
    std::string restored;
    FilterChain down([&](std::span<const uint8_t> b) { restored.append(b.begin(), b.end()); });
    down.push(makeDecompressFilter(CompressType::Zst, kContext));
    down.write(packed);
    down.finish();
    EXPECT_TRUE(restored == text);
}

// Frames of a block-stored file: one-shot, on reused per-thread contexts, and a frame that does
// not decompress to exactly its recorded length is refused with the file named.
TEST(IoFrameCodec, RoundTripAndWrongLengthOrDamage) {
    std::string text(100000, 'q');
    text[5] = 'x';
    std::span<const uint8_t> in{reinterpret_cast<const uint8_t*>(text.data()), text.size()};
    for (auto type : {CompressType::Zst, CompressType::None}) {
        Buffer frame, out;
        compressFrame(type, 3, in, frame);
        compressFrame(type, 1, in, frame);  // appends a second frame
        size_t one = frame.size() / 2;
        decompressFrame(type, {frame.data(), one}, text.size(), out, kContext);
        EXPECT_EQ(std::string(reinterpret_cast<const char*>(out.data()), out.size()), text);
        Error e = errorFrom([&] {
            decompressFrame(type, {frame.data(), one}, text.size() - 1, out, kContext);
        });
        EXPECT_EQ(e.code(), ErrorCode::Compress);
        EXPECT_NE(std::string(e.what()).find(kContext), std::string::npos) << e.what();
    }
    Buffer frame, out;
    compressFrame(CompressType::Zst, 3, in, frame);
    frame.data()[frame.size() - 3] ^= 0x40;  // the content checksum
    EXPECT_EQ(errorFrom([&] {
                  decompressFrame(CompressType::Zst, frame.span(), text.size(), out, kContext);
              }).code(),
              ErrorCode::Compress);
}

}  // namespace
}  // namespace backrest::io
