// SHA-256 filter and helpers against FIPS 180-2 vectors, whole and in uneven blocks.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "io/filter_chain.h"
#include "io/sha256.h"

namespace backrest::io {
namespace {

constexpr const char* kEmpty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr const char* kAbc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
constexpr const char* kTwoBlock =
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
constexpr const char* kMillionA =
    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";

std::string chainHex(const std::vector<uint8_t>& data, size_t block) {
    FilterChain chain([](std::span<const uint8_t>) {});
    auto& sha = chain.add<Sha256Filter>();
    std::span<const uint8_t> all(data);
    for (size_t at = 0; at < all.size(); at += block) {
        chain.write(all.subspan(at, std::min(block, all.size() - at)));
    }
    chain.finish();
    return sha.hex();
}

TEST(IoSha256Test, KnownVectorsOneShot) {
    EXPECT_EQ(sha256Hex(std::string_view("")), kEmpty);
    EXPECT_EQ(sha256Hex(std::string_view("abc")), kAbc);
    EXPECT_EQ(
        sha256Hex(std::string_view("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
        kTwoBlock);
    EXPECT_EQ(sha256Hex(std::span<const uint8_t>()), kEmpty);
    const uint8_t abc[] = {'a', 'b', 'c'};
    EXPECT_EQ(sha256Hex(std::span<const uint8_t>(abc)), kAbc);
}

TEST(IoSha256Test, FilterOnEmptyInputAndAbc) {
    EXPECT_EQ(chainHex({}, 1), kEmpty);
    EXPECT_EQ(chainHex({'a', 'b', 'c'}, 1), kAbc);
    EXPECT_EQ(chainHex({'a', 'b', 'c'}, 2), kAbc);
}

TEST(IoSha256Test, HexIsLowercaseAndEmptyBeforeFinish) {
    Sha256Filter sha;
    Buffer unused;
    EXPECT_TRUE(sha.hex().empty());
    sha.finish(unused);
    EXPECT_EQ(sha.hex().size(), 64u);
    EXPECT_TRUE(std::all_of(sha.hex().begin(), sha.hex().end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    }));
    EXPECT_TRUE(unused.empty());  // an observer writes nothing
}

TEST(IoSha256Test, MillionAInUnevenBlocks) {
    const std::vector<uint8_t> data(1000000, 'a');
    const std::string oneShot = sha256Hex(std::span<const uint8_t>(data));
    EXPECT_EQ(oneShot, kMillionA);
    for (size_t block : {size_t{1}, size_t{7}, size_t{4096}, (size_t{1} << 20) + 3}) {
        SCOPED_TRACE(block);
        EXPECT_EQ(chainHex(data, block), oneShot);
    }
}

TEST(IoSha256Test, DifferentInputGivesDifferentDigest) {
    std::vector<uint8_t> data(1000000, 'a');
    data[500000] = 'b';
    EXPECT_NE(chainHex(data, 4096), kMillionA);
}

// Hashed on the filter's own thread: the same digest for any piece sizes (pieces of 1 MiB handed
// over, a bounded queue), and a filter dropped before finish() does not hang or leak its thread.
TEST(IoSha256Test, OwnThreadGivesTheSameDigest) {
    std::vector<uint8_t> data(9 * 1024 * 1024 + 12345);
    for (size_t i = 0; i < data.size(); i++) data[i] = static_cast<uint8_t>(i * 2654435761u >> 13);
    std::string expected = sha256Hex(data);
    for (size_t piece : {size_t{1} << 20, size_t{333333}, size_t{5000000}}) {
        SCOPED_TRACE(piece);
        Sha256Filter own(Sha256Filter::Thread::Own);
        Buffer unused;
        for (size_t at = 0; at < data.size(); at += piece)
            own.process({data.data() + at, std::min(piece, data.size() - at)}, unused);
        own.finish(unused);
        EXPECT_EQ(own.hex(), expected);
    }
    Sha256Filter empty(Sha256Filter::Thread::Own);
    Buffer unused;
    empty.finish(unused);
    EXPECT_EQ(empty.hex(), sha256Hex(std::string_view()));
    {
        Sha256Filter abandoned(Sha256Filter::Thread::Own);
        abandoned.process({data.data(), data.size()}, unused);
    }  // destroyed unfinished: joins its thread
}

}  // namespace
}  // namespace backrest::io
