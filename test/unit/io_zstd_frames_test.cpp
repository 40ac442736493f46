// A file compressed as independent zstd frames: an ordinary zstd stream as a whole, each frame
// decodable alone to exactly its share of the bytes, the same with and without worker threads.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>

#include "common/error.h"
#include "io/buffer.h"
#include "io/filter_chain.h"
#include "io/frame_codec.h"
#include "io/zstd.h"
#include "io/zstd_frames.h"
#include "test/unit/test_support.h"

namespace backrest::io {
namespace {

using backrest::test::errorOf;
using backrest::test::has;

std::string content(size_t size) {
    std::mt19937 rng(static_cast<uint32_t>(size));
    std::string s(size, '\0');
    for (size_t i = 0; i < size; i++)
        s[i] = i % 3 ? static_cast<char>('a' + i % 11) : static_cast<char>(rng());
    return s;
}

std::span<const uint8_t> bytesOf(const std::string& s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

struct Compressed {
    std::string bytes;
    std::vector<uint64_t> frames;
};

// Feeds `input` in pieces of `piece` bytes, as a file is read.
Compressed compressFramed(const std::string& input, size_t frameBytes, int workers,
                          size_t piece = 10000) {
    Compressed c;
    FilterChain chain([&](std::span<const uint8_t> b) {
        c.bytes.append(reinterpret_cast<const char*>(b.data()), b.size());
    });
    auto filter = std::make_unique<ZstdFramedCompressFilter>(3, frameBytes, workers);
    auto* framed = filter.get();
    chain.push(std::move(filter));
    for (size_t at = 0; at < input.size(); at += piece)
        chain.write(bytesOf(input).subspan(at, std::min(piece, input.size() - at)));
    chain.finish();
    c.frames = framed->frameSizes();
    return c;
}

std::string decompressStream(const std::string& compressed) {
    std::string out;
    FilterChain chain([&](std::span<const uint8_t> b) {
        out.append(reinterpret_cast<const char*>(b.data()), b.size());
    });
    chain.push(std::make_unique<ZstdDecompressFilter>("test"));
    chain.write(bytesOf(compressed));
    chain.finish();
    return out;
}

TEST(ZstdFrames, EachFrameHoldsItsShareAndTheWholeIsOneZstdStream) {
    const size_t frame = 64 * 1024;
    for (size_t size :
         {size_t{0}, size_t{1}, frame - 1, frame, frame + 1, 5 * frame, 5 * frame + 123}) {
        for (int workers : {0, 1, 3}) {
            SCOPED_TRACE(::testing::Message() << size << " bytes, " << workers << " workers");
            std::string input = content(size);
            auto c = compressFramed(input, frame, workers);
            size_t expectFrames = size == 0 ? 1 : (size + frame - 1) / frame;
            ASSERT_EQ(c.frames.size(), expectFrames);
            uint64_t sum = 0;
            for (auto n : c.frames) sum += n;
            EXPECT_EQ(sum, c.bytes.size());
            // Any zstd reader takes the concatenation.
            EXPECT_EQ(decompressStream(c.bytes), input);
            // Each frame alone gives its own bytes, in place.
            uint64_t at = 0;
            for (size_t k = 0; k < c.frames.size(); k++) {
                Buffer out;
                size_t want = std::min<size_t>(frame, size - std::min(size, k * frame));
                decompressFrame(CompressType::Zst, bytesOf(c.bytes).subspan(at, c.frames[k]), want,
                                out, "f");
                EXPECT_EQ(std::string(reinterpret_cast<const char*>(out.data()), out.size()),
                          input.substr(k * frame, want));
                at += c.frames[k];
            }
        }
    }
}

TEST(ZstdFrames, ThreadsWriteTheSameBytesAsTheCaller) {
    std::string input = content(3 * 1024 * 1024 + 77);
    auto inline0 = compressFramed(input, 256 * 1024, 0, 65536);
    auto threaded = compressFramed(input, 256 * 1024, 2, 1 << 20);
    EXPECT_EQ(inline0.bytes, threaded.bytes);
    EXPECT_EQ(inline0.frames, threaded.frames);
}

// Read straight into the compressor's frame (FilterChain::inputSpace/commitInput), in pieces
// of any size: observers before it see every byte, and the output is the same as write()'s.
TEST(ZstdFrames, ReadingIntoTheFrameBufferGivesTheSameBytes) {
    std::string input = content(700 * 1024 + 5);
    for (int workers : {0, 2}) {
        auto viaWrite = compressFramed(input, 128 * 1024, workers);
        Compressed c;
        FilterChain chain([&](std::span<const uint8_t> b) {
            c.bytes.append(reinterpret_cast<const char*>(b.data()), b.size());
        });
        std::string observed;
        struct Observer : Filter {
            std::string* seen;
            bool transforms() const override { return false; }
            void process(std::span<const uint8_t> in, Buffer&) override {
                seen->append(reinterpret_cast<const char*>(in.data()), in.size());
            }
        };
        auto& observer = chain.add<Observer>();
        observer.seen = &observed;
        auto filter = std::make_unique<ZstdFramedCompressFilter>(3, 128 * 1024, workers);
        auto* framed = filter.get();
        chain.push(std::move(filter));
        size_t at = 0, piece = 1;
        while (at < input.size()) {
            auto space = chain.inputSpace();
            ASSERT_FALSE(space.empty());
            size_t n = std::min({space.size(), input.size() - at, piece});
            std::memcpy(space.data(), input.data() + at, n);
            chain.commitInput(n);
            at += n;
            piece = piece * 3 + 1;  // 1, 4, 13, ... bytes: across frame ends
        }
        chain.finish();
        EXPECT_EQ(observed, input);
        EXPECT_EQ(c.bytes, viaWrite.bytes);
        EXPECT_EQ(framed->frameSizes(), viaWrite.frames);
    }
}

TEST(ZstdFrames, AFrameThatDoesNotMatchItsIndexIsAnError) {
    std::string input = content(200000);
    auto c = compressFramed(input, 100000, 0);
    ASSERT_EQ(c.frames.size(), 2u);
    Buffer out;
    auto whole = bytesOf(c.bytes);
    // The wrong size of original bytes.
    auto e = errorOf([&] {
        decompressFrame(CompressType::Zst, whole.first(c.frames[0]), 99999, out, "base/1/2");
    });
    EXPECT_EQ(e.code(), ErrorCode::Compress);
    EXPECT_TRUE(has(e.what(), "'base/1/2' holds 100000 bytes, not 99999")) << e.what();
    // A range that is two frames, or part of one.
    e = errorOf([&] { decompressFrame(CompressType::Zst, whole, 100000, out, "base/1/2"); });
    EXPECT_TRUE(has(e.what(), "is not where the frame ends")) << e.what();
    e = errorOf([&] {
        decompressFrame(CompressType::Zst, whole.first(c.frames[0] - 1), 100000, out, "base/1/2");
    });
    EXPECT_EQ(e.code(), ErrorCode::Compress);
    // A flipped byte inside: the frame's own checksum.
    std::string damaged = c.bytes.substr(0, c.frames[0]);
    damaged[damaged.size() / 2] ^= 0x40;
    e = errorOf(
        [&] { decompressFrame(CompressType::Zst, bytesOf(damaged), 100000, out, "base/1/2"); });
    EXPECT_EQ(e.code(), ErrorCode::Compress);
    EXPECT_TRUE(has(e.what(), "base/1/2")) << e.what();
}

}  // namespace
}  // namespace backrest::io
