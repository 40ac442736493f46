// The repository codec with a key: every file and frame sealed after compression and opened
// before decompression, bound to its piece and position; a wrong piece, a swapped frame, a cut
// or a flipped byte is a CryptoError naming the stored file.
#include <gtest/gtest.h>

#include <string>

#include "crypto/sealed.h"
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

std::string textOf(const io::Buffer& b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

std::string sample(size_t n) {
    std::string s(n, '\0');
    for (size_t i = 0; i < n; i++) s[i] = static_cast<char>((i * 7) % 13 + (i / 4096) % 5 + (i % 251 == 0 ? i : 0));
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

std::shared_ptr<const crypto::RepoKey> testKey(uint8_t seed = 1) {
    std::array<uint8_t, crypto::kRepoKeyBytes> bytes{};
    for (size_t i = 0; i < bytes.size(); i++) bytes[i] = static_cast<uint8_t>(seed * 31 + i);
    return std::make_shared<const crypto::RepoKey>(bytes);
}

const std::string kPiece = "backup/main/20261205-000000F/pg_data/base/1/16384";
const std::string kOther = "backup/main/20261205-000000F/pg_data/base/1/16385";

RepoCodec sealing(io::CompressType type = io::CompressType::Zst) { return RepoCodec(type, 3).withKey(testKey()); }

std::string decodeWhole(const RepoCodec& codec, const std::string& stored, const std::string& piece) {
    return run(stored, [&](io::FilterChain& c) { codec.pushDecode(c, piece, "'/repo/f.zst'"); });
}

void expectCryptoNaming(const Error& e, const std::string& part) {
    EXPECT_EQ(e.code(), ErrorCode::Crypto) << e.what();
    EXPECT_TRUE(has(e.what(), part)) << e.what();
}

TEST(RepoCodecSealed, WholeFileRoundTripAndNothingReadable) {
    std::string original = sample(300000) + "PG_VERSION backup_label";
    for (auto type : {io::CompressType::Zst, io::CompressType::None}) {
        SCOPED_TRACE(io::compressTypeName(type));
        RepoCodec codec = sealing(type);
        EXPECT_TRUE(codec.encrypted());
        std::string stored = run(original, [&](io::FilterChain& c) { EXPECT_EQ(codec.pushEncode(c, kPiece), nullptr); });
        EXPECT_TRUE(crypto::looksSealed(bytesOf(stored)));
        EXPECT_FALSE(has(stored, "PG_VERSION"));
        EXPECT_FALSE(has(stored, "backup_label"));
        EXPECT_EQ(decodeWhole(codec.storedWith(type), stored, kPiece), original);
        // storedWith keeps the key.
        EXPECT_TRUE(RepoCodec(io::CompressType::Zst, 3).withKey(testKey()).storedWith(type).encrypted());
    }
}

TEST(RepoCodecSealed, WrongPieceWrongKeyTruncationAndFlippedByteAreCryptoErrors) {
    RepoCodec codec = sealing();
    std::string stored = run(sample(200000), [&](io::FilterChain& c) { codec.pushEncode(c, kPiece); });
    expectCryptoNaming(errorOf([&] { decodeWhole(codec, stored, kOther); }), "/repo/f.zst");
    expectCryptoNaming(errorOf([&] { decodeWhole(RepoCodec(io::CompressType::Zst).withKey(testKey(2)), stored, kPiece); }),
                       "/repo/f.zst");
    for (size_t cut : {stored.size() - 1, stored.size() - 17, stored.size() / 2, size_t{10}})
        expectCryptoNaming(errorOf([&] { decodeWhole(codec, stored.substr(0, cut), kPiece); }), "/repo/f.zst");
    for (size_t at : {size_t{2}, size_t{30}, stored.size() / 2, stored.size() - 1}) {
        std::string flipped = stored;
        flipped[at] = static_cast<char>(flipped[at] ^ 0x10);
        expectCryptoNaming(errorOf([&] { decodeWhole(codec, flipped, kPiece); }), "/repo/f.zst");
    }
}

TEST(RepoCodecSealed, FramedFileReadsWholeAndFrameByFrame) {
    std::string original = sample(100000);
    const uint64_t frameBytes = 32768;
    for (int workers : {0, 2}) {
        SCOPED_TRACE(workers);
        RepoCodec codec = sealing();
        std::string stored;
        io::FilterChain chain([&](std::span<const uint8_t> b) { stored.append(b.begin(), b.end()); });
        const FrameIndex* index = codec.pushEncode(chain, kPiece, {.workers = workers, .frameBytes = frameBytes});
        ASSERT_NE(index, nullptr);
        chain.write(bytesOf(original));
        chain.finish();
        const auto& sizes = index->frameSizes();
        ASSERT_EQ(sizes.size(), 4u);
        // The recorded sizes are the sealed ones: they add up to the stored file.
        uint64_t sum = 0;
        for (uint64_t n : sizes) sum += n;
        EXPECT_EQ(sum, stored.size());
        // Whole: units 0, 1, 2, 3 in order.
        EXPECT_EQ(decodeWhole(codec, stored, kPiece), original);
        // Ranged: frame k alone, as unit k.
        std::vector<std::string> frames;
        for (size_t k = 0, offset = 0; k < sizes.size(); offset += sizes[k], k++) {
            frames.push_back(stored.substr(offset, sizes[k]));
            EXPECT_TRUE(crypto::looksSealed(bytesOf(frames.back())));
            io::Buffer out;
            size_t length = std::min<size_t>(frameBytes, original.size() - k * frameBytes);
            codec.decodeFrame(bytesOf(frames.back()), kPiece, k, length, out, "'/repo/f.zst', frame");
            EXPECT_EQ(textOf(out), original.substr(k * frameBytes, length));
        }
        // Frame 1's bytes read as frame 0 (two frames swapped), or as another file's frame 1.
        io::Buffer out;
        expectCryptoNaming(errorOf([&] { codec.decodeFrame(bytesOf(frames[1]), kPiece, 0, frameBytes, out, "frame 0 of '/repo/f.zst'"); }),
                           "frame 0 of '/repo/f.zst'");
        expectCryptoNaming(errorOf([&] { codec.decodeFrame(bytesOf(frames[1]), kOther, 1, frameBytes, out, "frame 1 of '/repo/g.zst'"); }),
                           "frame 1 of '/repo/g.zst'");
        // Read whole with frames 1 and 2 swapped.
        std::string swapped = frames[0] + frames[2] + frames[1] + frames[3];
        expectCryptoNaming(errorOf([&] { decodeWhole(codec, swapped, kPiece); }), "/repo/f.zst");
        // A frame cut short, or with a byte flipped.
        expectCryptoNaming(errorOf([&] { codec.decodeFrame(bytesOf(frames[2]).first(sizes[2] - 1), kPiece, 2, frameBytes, out, "frame 2"); }),
                           "frame 2");
        std::string flipped = frames[2];
        flipped[flipped.size() / 2] ^= 1;
        expectCryptoNaming(errorOf([&] { codec.decodeFrame(bytesOf(flipped), kPiece, 2, frameBytes, out, "frame 2"); }), "frame 2");
        // A file missing its last frame.
        expectCryptoNaming(errorOf([&] { decodeWhole(codec, frames[0] + frames[1] + frames[2] + frames[3].substr(0, 30), kPiece); }),
                           "/repo/f.zst");
    }
}

// Block-incremental frames: each frame sealed alone as unit k of its file's piece.
TEST(RepoCodecSealed, BlockFramesRoundTripAndAreBoundToTheirIndex) {
    std::string original = sample(65536);
    RepoCodec codec = sealing();
    io::Buffer frame, back;
    codec.encodeFrame(bytesOf(original), kPiece, 5, frame);
    EXPECT_TRUE(crypto::looksSealed(frame.span()));
    codec.decodeFrame(frame.span(), kPiece, 5, original.size(), back, "blocks");
    EXPECT_EQ(textOf(back), original);
    expectCryptoNaming(errorOf([&] { codec.decodeFrame(frame.span(), kPiece, 4, original.size(), back, "blocks frame 4"); }),
                       "blocks frame 4");
    expectCryptoNaming(errorOf([&] { codec.decodeFrame(frame.span(), kOther, 5, original.size(), back, "blocks of g"); }),
                       "blocks of g");
}

// A resumed file: its stored bytes become the new label's without decompression, unit by unit
// (a framed file keeps its frame sizes), and no longer open as the old label's.
TEST(RepoCodecSealed, ResealMovesAFileToAnotherPiece) {
    std::string original = sample(100000);
    RepoCodec codec = sealing();
    const std::string newPiece = "backup/main/20261205-010000F/pg_data/base/1/16384";
    for (uint64_t frameBytes : {uint64_t{0}, uint64_t{32768}}) {
        SCOPED_TRACE(frameBytes);
        std::string stored;
        io::FilterChain chain([&](std::span<const uint8_t> b) { stored.append(b.begin(), b.end()); });
        codec.pushEncode(chain, kPiece, {.frameBytes = frameBytes});
        chain.write(bytesOf(original));
        chain.finish();
        // Fed in odd pieces: unit and chunk boundaries fall anywhere in a write.
        std::string moved;
        io::FilterChain reseal([&](std::span<const uint8_t> b) { moved.append(b.begin(), b.end()); });
        codec.pushReseal(reseal, kPiece, newPiece, "'/repo/f.zst'");
        for (size_t at = 0; at < stored.size(); at += 7777)
            reseal.write(bytesOf(stored).subspan(at, std::min<size_t>(7777, stored.size() - at)));
        reseal.finish();
        EXPECT_EQ(moved.size(), stored.size());
        EXPECT_NE(moved, stored);
        EXPECT_EQ(decodeWhole(codec, moved, newPiece), original);
        expectCryptoNaming(errorOf([&] { decodeWhole(codec, moved, kPiece); }), "/repo/f.zst");
        // A damaged or cut source is refused, naming it.
        expectCryptoNaming(errorOf([&] { run(stored, [&](io::FilterChain& c) { codec.pushReseal(c, kOther, newPiece, "'/repo/f.zst'"); }); }),
                           "/repo/f.zst");
        expectCryptoNaming(errorOf([&] {
                               run(stored.substr(0, stored.size() - 5),
                                   [&](io::FilterChain& c) { codec.pushReseal(c, kPiece, newPiece, "'/repo/f.zst'"); });
                           }),
                           "/repo/f.zst");
    }
}

}  // namespace
}  // namespace backrest::repo
