// One-shot frames (io/frame_codec.h) of a repository stored without compression: a frame is its
// bytes, and a recorded length that does not match them is a CompressError naming the file.
#include <gtest/gtest.h>

#include <string>
#include <tuple>

#include "common/error.h"
#include "io/buffer.h"
#include "io/frame_codec.h"
#include "test/unit/test_support.h"

using namespace backrest;
using namespace backrest::io;
using backrest::test::errorOf;

namespace {
std::span<const uint8_t> bytesOf(const std::string& s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
std::string textOf(const Buffer& b) {
    return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}
}  // namespace

TEST(IoFrameCodec, UncompressedFrameIsItsBytes) {
    Buffer frame;
    compressFrame(CompressType::None, 3, bytesOf("page bytes"), frame);
    EXPECT_EQ(textOf(frame), "page bytes");
    Buffer out;
    out.append(bytesOf("left over"));  // replaced, not appended to
    decompressFrame(CompressType::None, frame.span(), 10, out, "pg_data/base/1/1259");
    EXPECT_EQ(textOf(out), "page bytes");
}

TEST(IoFrameCodec, UncompressedFrameOfAnotherLengthNamesTheFile) {
    Buffer out;
    Error e = errorOf([&] {
        decompressFrame(CompressType::None, bytesOf("short"), 8192, out, "pg_data/base/1/1259");
    });
    EXPECT_EQ(e.code(), ErrorCode::Compress);
    EXPECT_EQ(std::string(e.what()), "frame of 'pg_data/base/1/1259' has 5 bytes, not 8192");
}

TEST(IoFrameCodec, ZstdFrameRoundTripAndNotAFrame) {
    std::string plain(100000, 'q');
    Buffer frame, out;
    compressFrame(CompressType::Zst, 3, bytesOf(plain), frame);
    EXPECT_LT(frame.size(), plain.size());
    decompressFrame(CompressType::Zst, frame.span(), plain.size(), out, "f");
    EXPECT_EQ(textOf(out), plain);
    Error e = errorOf([&] {
        decompressFrame(CompressType::Zst, bytesOf(std::string(64, 'x')), 64, out, "pg_data/x");
    });
    EXPECT_EQ(e.code(), ErrorCode::Compress);
    EXPECT_TRUE(test::has(e.what(), "zstd frame of 'pg_data/x' is damaged")) << e.what();
}

namespace {
// 8 KiB pages of random bytes with a zeroed hole in each (as a table of md5-derived rows), or
// lines of words and numbers (which level 3 compresses ~12 % smaller than level 1).
std::string noisePages(size_t bytes) {
    std::string s(bytes, '\0');
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < bytes; i++) {
        if (i % 8192 >= 6600) continue;  // the page's free space
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        s[i] = static_cast<char>(x);
    }
    return s;
}
std::string wordLines(size_t bytes) {
    static const char* const kWords[] = {"alpha", "beta",  "gamma",  "delta", "epsilon", "zeta",
                                         "theta", "kappa", "lambda", "sigma", "omega",   "tau",
                                         "rho",   "phi",   "chi",    "psi"};
    std::string s;
    uint64_t x = 2463534242ull;
    while (s.size() < bytes) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        s += std::string(kWords[x % 16]) + std::to_string(x / 16 % 100) +
             ((x >> 20) % 8 ? " " : "\n");
    }
    s.resize(bytes);
    return s;
}
}  // namespace

// A large frame that level 3 compresses no better than level 1 is compressed at level 1 (the
// same bytes as asking for level 1, half the CPU on such data); one level 3 does compress
// better keeps level 3; both decode to their input.
TEST(IoFrameCodec, ZstdLargeFrameOfIncompressibleDataTakesLevelOne) {
    for (const auto& [name, plain, levelOne] : {std::tuple{"noise", noisePages(2u << 20), true},
                                                std::tuple{"words", wordLines(2u << 20), false}}) {
        Buffer at3, at1, out;
        compressFrame(CompressType::Zst, 3, bytesOf(plain), at3);
        compressFrame(CompressType::Zst, 1, bytesOf(plain), at1);
        if (levelOne)
            EXPECT_EQ(textOf(at3), textOf(at1)) << name;
        else
            EXPECT_LT(at3.size(), at1.size()) << name;
        EXPECT_LT(at3.size(), plain.size()) << name;  // the holes still compress
        decompressFrame(CompressType::Zst, at3.span(), plain.size(), out, name);
        EXPECT_TRUE(textOf(out) == plain) << name;
    }
    // A higher level is honoured whatever the samples say.
    const std::string noise = noisePages(2u << 20);
    Buffer at9, at1;
    compressFrame(CompressType::Zst, 9, bytesOf(noise), at9);
    compressFrame(CompressType::Zst, 1, bytesOf(noise), at1);
    EXPECT_NE(textOf(at9), textOf(at1));
}
