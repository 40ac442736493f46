// Sealed units (crypto/sealed.h): round trips through the one-shot functions and the streaming
// filters at every chunk boundary, and each way a unit can be wrong failing by name.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "common/error.h"
#include "crypto/sealed.h"
#include "io/filter_chain.h"

using namespace backrest;
using namespace backrest::crypto;

namespace {

std::vector<uint8_t> randomData(size_t n, unsigned seed = 1) {
    std::mt19937 gen(seed);
    std::vector<uint8_t> v(n);
    for (auto& b : v) b = static_cast<uint8_t>(gen());
    return v;
}

// Pushes `in` through one filter in blocks of `block` bytes.
std::vector<uint8_t> runFilter(std::unique_ptr<io::Filter> filter, std::span<const uint8_t> in,
                               size_t block) {
    std::vector<uint8_t> out;
    io::FilterChain chain(
        [&](std::span<const uint8_t> b) { out.insert(out.end(), b.begin(), b.end()); });
    chain.push(std::move(filter));
    for (size_t at = 0; at < in.size(); at += block)
        chain.write(in.subspan(at, std::min(block, in.size() - at)));
    chain.finish();
    return out;
}

std::string errorOf(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return std::string(errorCodeName(e.code())) + ": " + e.what();
    }
    return "no error";
}

const std::string kPiece = "backup/main/20261205-120000F/pg_data/base/1/1259";

}  // namespace

TEST(CryptoSealed, RoundTripsAtEveryChunkBoundary) {
    auto key = RepoKey::generate();
    for (size_t n : {size_t{0}, size_t{1}, kSealChunkBytes - 1, kSealChunkBytes,
                     kSealChunkBytes + 1, 3 * kSealChunkBytes, 3 * kSealChunkBytes + 17}) {
        auto data = randomData(n);
        io::Buffer sealed;
        sealUnit(*key, kPiece, 0, data, sealed);
        EXPECT_EQ(sealed.size(), sealedSize(n)) << n;
        EXPECT_TRUE(looksSealed(sealed.span()));
        io::Buffer opened;
        openUnit(*key, kPiece, 0, sealed.span(), opened, "ctx");
        EXPECT_EQ(std::vector<uint8_t>(opened.span().begin(), opened.span().end()), data) << n;
        for (size_t block : {size_t{1000}, size_t{65536}, size_t{1} << 20}) {
            auto streamed = runFilter(makeSealFilter(key, kPiece), data, block);
            EXPECT_EQ(streamed.size(), sealedSize(n));
            EXPECT_EQ(
                runFilter(makeOpenFilter(key, kPiece, "ctx"), streamed, block == 1000 ? 7 : block),
                data);
        }
    }
}

TEST(CryptoSealed, SameBytesSealTwiceDifferently) {
    auto key = RepoKey::generate();
    auto data = randomData(100);
    io::Buffer a, b;
    sealUnit(*key, kPiece, 0, data, a);
    sealUnit(*key, kPiece, 0, data, b);
    EXPECT_NE(std::vector<uint8_t>(a.span().begin(), a.span().end()),
              std::vector<uint8_t>(b.span().begin(), b.span().end()));
}

TEST(CryptoSealed, ConsecutiveUnitsOpenAsOneStream) {
    auto key = RepoKey::generate();
    auto f0 = randomData(70000, 1), f1 = randomData(5, 2), f2 = randomData(0, 3);
    io::Buffer stream;
    sealUnit(*key, kPiece, 0, f0, stream);
    sealUnit(*key, kPiece, 1, f1, stream);
    sealUnit(*key, kPiece, 2, f2, stream);
    auto opened = runFilter(makeOpenFilter(key, kPiece, "ctx"), stream.span(), 4096);
    std::vector<uint8_t> want = f0;
    want.insert(want.end(), f1.begin(), f1.end());
    EXPECT_EQ(opened, want);
}

TEST(CryptoSealed, EveryWrongUnitFailsNamingItsContext) {
    auto key = RepoKey::generate();
    auto data = randomData(3 * kSealChunkBytes + 5);
    io::Buffer sealed;
    sealUnit(*key, kPiece, 4, data, sealed);
    std::vector<uint8_t> good(sealed.span().begin(), sealed.span().end());
    io::Buffer out;
    auto open = [&](std::span<const uint8_t> in, std::string_view piece, uint64_t index,
                    std::shared_ptr<const RepoKey> k) {
        return errorOf([&] { openUnit(*k, piece, index, in, out, "the file 'x'"); });
    };
    EXPECT_EQ(open(good, kPiece, 4, key), "no error");
    // Another piece (a swapped file), another position (a swapped frame), another key.
    EXPECT_NE(open(good, kPiece + "x", 4, key)
                  .find("CryptoError: the file 'x': sealed unit 4 chunk 0 does not "
                        "authenticate"),
              std::string::npos);
    EXPECT_NE(open(good, kPiece, 3, key).find("does not authenticate"), std::string::npos);
    EXPECT_NE(open(good, kPiece, 4, RepoKey::generate()).find("does not authenticate"),
              std::string::npos);
    // A flipped byte anywhere: header salt, a length, ciphertext, a tag.
    for (size_t at : {size_t{5}, kSealHeaderBytes, kSealHeaderBytes + 100, good.size() - 1}) {
        auto bad = good;
        bad[at] ^= 1;
        EXPECT_NE(open(bad, kPiece, 4, key).find("CryptoError: the file 'x'"), std::string::npos)
            << at;
    }
    // Cut anywhere, including at a chunk boundary (the last-chunk bit) and right after the header.
    for (size_t keep : {size_t{0}, size_t{3}, kSealHeaderBytes,
                        kSealHeaderBytes + 4 + kSealChunkBytes + 16, good.size() - 1}) {
        std::span<const uint8_t> cut(good.data(), keep);
        EXPECT_NE(open(cut, kPiece, 4, key).find("CryptoError: the file 'x'"), std::string::npos)
            << keep;
    }
    // A chunk dropped from the middle: the next chunk's nonce is wrong.
    auto dropped = good;
    size_t chunk = 4 + kSealChunkBytes + 16;
    dropped.erase(dropped.begin() + kSealHeaderBytes, dropped.begin() + kSealHeaderBytes + chunk);
    EXPECT_NE(open(dropped, kPiece, 4, key).find("chunk 0 does not authenticate"),
              std::string::npos);
    // Plain bytes where a unit should be.
    auto plain = randomData(100);
    EXPECT_NE(open(plain, kPiece, 4, key).find("does not start as one"), std::string::npos);
}

TEST(CryptoSealed, TwoFramesSwappedFail) {
    auto key = RepoKey::generate();
    io::Buffer f0, f1;
    sealUnit(*key, kPiece, 0, randomData(1000, 1), f0);
    sealUnit(*key, kPiece, 1, randomData(1000, 2), f1);
    io::Buffer swapped;
    swapped.append(f1.span());
    swapped.append(f0.span());
    EXPECT_NE(errorOf([&] {
                  runFilter(makeOpenFilter(key, kPiece, "f"), swapped.span(), 512);
              }).find("CryptoError: f: sealed unit 0 chunk 0 does not authenticate"),
              std::string::npos);
}

TEST(CryptoSealed, Texts) {
    auto key = RepoKey::generate();
    std::string text = "{\"backup-label\":\"x\"}";
    std::string sealed = sealText(*key, "backup/main/backup.info", text);
    EXPECT_EQ(sealed.find("backup-label"), std::string::npos);
    EXPECT_EQ(openText(*key, "backup/main/backup.info", sealed, "c"), text);
    EXPECT_NE(errorOf([&] {
                  openText(*key, "archive/main/archive.info", sealed, "c");
              }).find("CryptoError"),
              std::string::npos);
}
