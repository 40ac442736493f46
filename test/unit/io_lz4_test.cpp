// lz4 filters and frames: round trips, several frames in one stream, damaged and truncated input
// named in the error, the empty file, levels and their bounds, names and extensions.
#include <gtest/gtest.h>
#include <lz4frame.h>

#include <cstring>
#include <random>
#include <string>

#include "common/error.h"
#include "io/compress.h"
#include "io/filter_chain.h"
#include "io/frame_codec.h"
#include "io/lz4.h"
#include "io/lz4_frame.h"
#include "io/zstd_frames.h"
#include "test/unit/test_support.h"

namespace backrest::io {
namespace {

using backrest::test::errorOf;
using backrest::test::has;

constexpr const char* kContext = "/repo/backup/db/20260101-000000F/pg_data/base/1/1259.lz4";

std::span<const uint8_t> bytesOf(const std::string& s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Mostly compressible, with random runs (as table pages are).
std::string content(size_t size, uint32_t seed = 7) {
    std::mt19937 rng(seed);
    std::string s(size, '\0');
    for (size_t i = 0; i < size; i++)
        s[i] = i % 8192 < 1500 ? static_cast<char>(rng()) : static_cast<char>('a' + i % 13);
    return s;
}

std::string compress(const std::string& in, int level = 1, size_t piece = 100000) {
    std::string out;
    FilterChain chain([&](std::span<const uint8_t> b) { out.append(b.begin(), b.end()); });
    chain.push(makeCompressFilter(CompressType::Lz4, level));
    for (size_t at = 0; at < in.size(); at += piece)
        chain.write(bytesOf(in).subspan(at, std::min(piece, in.size() - at)));
    chain.finish();
    return out;
}

// Fed in pieces of `piece` bytes, as a repository file is read.
std::string decompress(const std::string& in, size_t piece = 65536) {
    std::string out;
    FilterChain chain([&](std::span<const uint8_t> b) { out.append(b.begin(), b.end()); });
    chain.push(makeDecompressFilter(CompressType::Lz4, kContext));
    for (size_t at = 0; at < in.size(); at += piece)
        chain.write(bytesOf(in).subspan(at, std::min(piece, in.size() - at)));
    chain.finish();
    return out;
}

// What the lz4 library itself makes of the stored bytes (pgBackRest and the lz4 tool read the
// same format).
std::string decompressWithLibrary(const std::string& in, size_t size) {
    LZ4F_dctx* ctx = nullptr;
    LZ4F_createDecompressionContext(&ctx, LZ4F_VERSION);
    std::string out(size + 1, '\0');
    size_t wrote = out.size(), taken = in.size();
    size_t hint = LZ4F_decompress(ctx, out.data(), &wrote, in.data(), &taken, nullptr);
    LZ4F_freeDecompressionContext(ctx);
    EXPECT_EQ(hint, 0u);
    EXPECT_EQ(taken, in.size());
    out.resize(wrote);
    return out;
}

TEST(IoLz4, RoundTripIsAnOrdinaryLz4FrameWithChecksum) {
    std::string original = content(3 << 20);
    std::string stored = compress(original);
    EXPECT_LT(stored.size(), original.size() / 2);
    EXPECT_EQ(decompress(stored), original);
    EXPECT_EQ(decompressWithLibrary(stored, original.size()), original);
    // Magic number, then the FLG byte with the content checksum bit (0x04).
    EXPECT_EQ(stored.substr(0, 4), std::string("\x04\x22\x4d\x18", 4));
    EXPECT_TRUE(stored[4] & 0x04);
    // Same input, same bytes: a resumed or repeated backup compares equal.
    EXPECT_EQ(compress(original, 1, 4096), stored);
}

TEST(IoLz4, EmptyFileIsStillAFrame) {
    std::string stored = compress("");
    EXPECT_GT(stored.size(), 0u);
    EXPECT_EQ(decompress(stored), "");
    auto e = errorOf([&] { decompress(""); });
    EXPECT_EQ(e.code(), ErrorCode::Compress);
    EXPECT_EQ(std::string(e.what()), std::string("compressed stream '") + kContext +
                                         "' is empty or truncated: no lz4 frame");
}

TEST(IoLz4, TruncatedAnywhereIsAnErrorNamingTheFile) {
    std::string original = content(300000);
    std::string stored = compress(original);
    for (size_t keep :
         {size_t{3}, size_t{10}, stored.size() / 2, stored.size() - 4, stored.size() - 1}) {
        auto e = errorOf([&] { decompress(stored.substr(0, keep)); });
        EXPECT_EQ(e.code(), ErrorCode::Compress) << keep;
        EXPECT_TRUE(has(e.what(), kContext)) << e.what();
    }
    auto e = errorOf([&] { decompress(stored.substr(0, stored.size() - 1)); });
    EXPECT_EQ(std::string(e.what()), std::string("compressed stream '") + kContext +
                                         "' is truncated: input ended inside an lz4 frame");
}

// Every byte of the stored file matters: the header checksum, block sizes, the data (the content
// checksum) and the checksum itself.
TEST(IoLz4, AFlippedByteAnywhereIsAnErrorNamingTheFile) {
    std::string original = content(200000, 3);
    std::string stored = compress(original);
    for (size_t at = 0; at < stored.size(); at += std::max<size_t>(1, stored.size() / 97)) {
        std::string damaged = stored;
        damaged[at] ^= 0x10;
        auto e = errorOf([&] { decompress(damaged); });
        EXPECT_EQ(e.code(), ErrorCode::Compress) << "byte " << at;
        EXPECT_TRUE(has(e.what(), kContext)) << e.what();
    }
    std::string damaged = stored;
    damaged[damaged.size() - 2] ^= 0x01;  // the content checksum
    EXPECT_TRUE(has(errorOf([&] { decompress(damaged); }).what(), "lz4 decompression of '"));
}

TEST(IoLz4, TrailingGarbageIsAnError) {
    std::string stored = compress(content(10000)) + "garbage!";
    EXPECT_EQ(errorOf([&] { decompress(stored); }).code(), ErrorCode::Compress);
}

// A file stored as frames, a streamed WAL segment: frames one after another read as one stream.
TEST(IoLz4, ConsecutiveFramesDecompressAsOneStream) {
    std::string a = content(100000, 1), b = content(5, 2), c = content(70000, 3);
    EXPECT_EQ(decompress(compress(a) + compress(b) + compress("") + compress(c, 9), 777),
              a + b + c);
}

// A small input holding megabytes: the chain's bound on a filter's output holds for lz4 too.
TEST(IoLz4, OutputOfOneCallIsBounded) {
    std::string original(32 << 20, 'z');
    std::string stored = compress(original);
    EXPECT_LT(stored.size(), 200000u);
    Lz4DecompressFilter filter(kContext);
    Buffer out;
    size_t used = 0, total = 0;
    do {
        out.clear();
        used += filter.processSome(bytesOf(stored).subspan(used), out, 1 << 20);
        EXPECT_LE(out.size(), size_t{1} << 20);
        total += out.size();
    } while (used < stored.size() || out.size() == size_t{1} << 20);
    filter.finish(out);
    EXPECT_EQ(total, original.size());
}

TEST(IoLz4, LevelsAreHonouredAndBounded) {
    std::string original = content(1 << 20, 5);
    size_t fastest = compress(original, -5).size(), fast = compress(original, 1).size(),
           hc = compress(original, 12).size();
    EXPECT_GT(fastest, fast);
    EXPECT_LT(hc, fast);
    for (int level : {-5, -1, 0, 1, 9, 12})
        EXPECT_EQ(decompress(compress(original, level)), original);

    EXPECT_EQ(defaultCompressLevel(CompressType::Lz4), 1);
    EXPECT_EQ(defaultCompressLevel(CompressType::Zst), 3);
    checkCompressLevel(CompressType::Lz4, -5);
    checkCompressLevel(CompressType::Lz4, 12);
    checkCompressLevel(CompressType::Zst, 22);
    checkCompressLevel(CompressType::None, 99);  // not used: no bound
    auto e = errorOf([] { checkCompressLevel(CompressType::Lz4, 13); });
    EXPECT_EQ(e.code(), ErrorCode::Option);
    EXPECT_EQ(std::string(e.what()),
              "invalid value '13' for option 'compress-level': compress-type=lz4 takes a level "
              "from -5 to 12");
    EXPECT_EQ(errorOf([] { checkCompressLevel(CompressType::Lz4, -6); }).code(), ErrorCode::Option);
    EXPECT_TRUE(has(errorOf([] { checkCompressLevel(CompressType::Zst, -8); }).what(),
                    "compress-type=zst takes a level from -7 to 22"));
}

TEST(IoLz4, NamesAndExtensions) {
    EXPECT_EQ(parseCompressType("lz4"), CompressType::Lz4);
    EXPECT_EQ(compressTypeName(CompressType::Lz4), "lz4");
    EXPECT_EQ(compressExtension(CompressType::Lz4), ".lz4");
    const std::string sha(64, 'a');
    EXPECT_EQ(compressTypeOfStoredName("000000010000000000000003-" + sha + ".lz4"),
              CompressType::Lz4);
    EXPECT_EQ(compressTypeOfStoredName("000000010000000000000003-" + sha + ".zst"),
              CompressType::Zst);
    EXPECT_EQ(compressTypeOfStoredName("00000002.history-" + sha), CompressType::None);
    EXPECT_EQ(withoutCompressExtension("a/b/1259.lz4"), "a/b/1259");
    EXPECT_EQ(withoutCompressExtension("a/b/1259.zst"), "a/b/1259");
    EXPECT_EQ(withoutCompressExtension("a/b/1259"), "a/b/1259");
    auto e = errorOf([] { parseCompressType("gz"); });
    EXPECT_EQ(std::string(e.what()),
              "invalid value 'gz' for option 'compress-type' (expected none, zst or lz4)");
}

// One frame alone (a block-stored file's frames, a large file's): exactly one frame holding
// exactly the recorded bytes, or an error naming the file.
TEST(IoLz4Frame, RoundTripAndEveryWayItCanBeWrong) {
    std::string original = content(100000, 9);
    Buffer frame, out;
    compressFrame(CompressType::Lz4, 1, bytesOf(original), frame);
    size_t one = frame.size();
    compressFrame(CompressType::Lz4, 9, bytesOf(original), frame);  // appends a second frame
    decompressFrame(CompressType::Lz4, {frame.data(), one}, original.size(), out, kContext);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(out.data()), out.size()), original);
    decompressFrame(CompressType::Lz4, frame.span().subspan(one), original.size(), out, kContext);
    EXPECT_EQ(out.size(), original.size());
    // Decoded again on the same thread after a failure: the context starts clean.
    auto e = errorOf([&] {
        decompressFrame(CompressType::Lz4, {frame.data(), one}, 99999, out, kContext);
    });
    EXPECT_EQ(e.code(), ErrorCode::Compress);
    EXPECT_EQ(std::string(e.what()),
              std::string("lz4 frame of '") + kContext + "' holds 100000 bytes, not 99999");
    e = errorOf(
        [&] { decompressFrame(CompressType::Lz4, frame.span(), original.size(), out, kContext); });
    EXPECT_TRUE(has(e.what(), "is not where the frame ends")) << e.what();
    e = errorOf([&] {
        decompressFrame(CompressType::Lz4, {frame.data(), one - 5}, original.size(), out, kContext);
    });
    EXPECT_TRUE(has(e.what(), "ends inside the frame")) << e.what();
    for (size_t at : {size_t{5}, one / 2, one - 2}) {
        std::string damaged(reinterpret_cast<const char*>(frame.data()), one);
        damaged[at] ^= 0x20;
        e = errorOf([&] {
            decompressFrame(CompressType::Lz4, bytesOf(damaged), original.size(), out, kContext);
        });
        EXPECT_EQ(e.code(), ErrorCode::Compress) << at;
        EXPECT_TRUE(has(e.what(), kContext)) << e.what();
    }
    decompressFrame(CompressType::Lz4, {frame.data(), one}, original.size(), out, kContext);
    EXPECT_EQ(out.size(), original.size());

    Buffer empty;
    compressFrame(CompressType::Lz4, 1, {}, empty);
    decompressFrame(CompressType::Lz4, empty.span(), 0, out, kContext);
    EXPECT_EQ(out.size(), 0u);
}

// A large file as frames compressed on the executor: each frame decodes alone, the whole is
// one lz4 stream, and threads write the bytes the caller writes.
TEST(IoLz4Frame, FramedFileDecodesWholeAndFrameByFrame) {
    std::string original = content(1000000, 4);
    std::string single;
    for (int workers : {0, 2}) {
        std::string stored;
        FilterChain chain([&](std::span<const uint8_t> b) { stored.append(b.begin(), b.end()); });
        auto filter = std::make_unique<ZstdFramedCompressFilter>(1, 300000, workers, nullptr,
                                                                 CompressType::Lz4);
        auto* framed = filter.get();
        chain.push(std::move(filter));
        chain.write(bytesOf(original));
        chain.finish();
        ASSERT_EQ(framed->frameSizes().size(), 4u);
        EXPECT_EQ(decompress(stored), original);
        size_t offset = 0;
        for (size_t k = 0; k < 4; k++) {
            Buffer out;
            size_t length = std::min<size_t>(300000, original.size() - k * 300000);
            decompressFrame(CompressType::Lz4,
                            bytesOf(stored).subspan(offset, framed->frameSizes()[k]), length, out,
                            kContext);
            EXPECT_EQ(std::string(reinterpret_cast<const char*>(out.data()), out.size()),
                      original.substr(k * 300000, length));
            offset += framed->frameSizes()[k];
        }
        if (workers == 0) single = stored;
        EXPECT_EQ(stored, single);
    }
}

}  // namespace
}  // namespace backrest::io
