// One-shot frames (io/frame_codec.h) of a repository stored without compression: a frame is its
// bytes, and a recorded length that does not match them is a CompressError naming the file.
#include <gtest/gtest.h>

#include <string>

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
