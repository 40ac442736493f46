// Resealing stored bytes for another piece (repo/reseal.h): a resumed backup's files become its
// new label's without being decompressed. The bytes out open only as the new piece, unit by unit
// at the same index; damaged, truncated or foreign input is a CryptoError naming the file.
#include <gtest/gtest.h>

#include <string>

#include "common/error.h"
#include "crypto/repo_key.h"
#include "crypto/sealed.h"
#include "io/buffer.h"
#include "repo/reseal.h"
#include "test/unit/test_support.h"

using namespace backrest;
using backrest::test::errorOf;
using backrest::test::has;

namespace {

constexpr const char* kFrom = "backup/main/20261121-235959F/pg_data/base/1/1259.zst";
constexpr const char* kTo = "backup/main/20261122-000500F/pg_data/base/1/1259.zst";
constexpr const char* kContext = "resumed file pg_data/base/1/1259";

std::span<const uint8_t> bytesOf(const std::string& s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
std::string textOf(const io::Buffer& b) {
    return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

// `plain` of `count` units (unit k = plain + k) sealed for `piece` at their index, one after
// another as a framed file stores them.
std::string sealUnits(const crypto::RepoKey& key, const std::string& piece,
                      const std::vector<std::string>& plain) {
    io::Buffer out;
    for (size_t k = 0; k < plain.size(); k++)
        crypto::sealUnit(key, piece, k, bytesOf(plain[k]), out);
    return textOf(out);
}

// Feeds `in` to a reseal filter `step` bytes at a time, as a reader hands over its buffers.
std::string reseal(std::shared_ptr<const crypto::RepoKey> key, const std::string& in, size_t step,
                   const std::string& from = kFrom) {
    auto filter = repo::makeResealFilter(key, from, kTo, kContext);
    EXPECT_TRUE(filter->transforms());
    io::Buffer out;
    for (size_t at = 0; at < in.size(); at += step)
        filter->process(bytesOf(in.substr(at, step)), out);
    filter->finish(out);
    return textOf(out);
}

class RepoReseal : public ::testing::Test {
  protected:
    std::shared_ptr<const crypto::RepoKey> key_ = crypto::RepoKey::generate();
    // Unit 1 spans several 64 KiB chunks, so chunk headers are found mid-unit.
    std::vector<std::string> plain_ = {"first frame", std::string(3 * 64 * 1024 + 5, 'x'),
                                       std::string(1, '\0')};
};

}  // namespace

TEST_F(RepoReseal, UnitsOpenAsTheNewPieceAtTheirIndex) {
    std::string stored = sealUnits(*key_, kFrom, plain_);
    for (size_t step : {stored.size(), size_t(1), size_t(7), size_t(4096)}) {
        std::string resealed = reseal(key_, stored, step);
        // A unit's sealed size depends only on its plaintext's: frame sizes stay as recorded.
        ASSERT_EQ(resealed.size(), stored.size()) << "step " << step;
        size_t at = 0;
        for (size_t k = 0; k < plain_.size(); k++) {
            size_t n = crypto::sealedSize(plain_[k].size());
            io::Buffer opened;
            crypto::openUnit(*key_, kTo, k, bytesOf(resealed.substr(at, n)), opened, "test");
            EXPECT_EQ(textOf(opened), plain_[k]) << "unit " << k << " step " << step;
            // Not openable as the old piece any more: the bytes belong to the new label.
            Error e = errorOf([&] {
                crypto::openUnit(*key_, kFrom, k, bytesOf(resealed.substr(at, n)), opened, "old");
            });
            EXPECT_EQ(e.code(), ErrorCode::Crypto);
            at += n;
        }
    }
}

// A reader's buffer may end anywhere, also 4 to 19 bytes into the next unit's header: the
// unit's magic is not read as a chunk header (it was, and a resumed encrypted framed file failed
// as "damaged chunk header" whenever a frame boundary fell there).
TEST_F(RepoReseal, BufferEndingInsideAUnitHeader) {
    std::string stored = sealUnits(*key_, kFrom, {"frame zero", "frame one"});
    size_t boundary = crypto::sealedSize(10);
    for (size_t into : {size_t(1), size_t(4), size_t(10), size_t(19), size_t(20), size_t(23)}) {
        auto filter = repo::makeResealFilter(key_, kFrom, kTo, kContext);
        io::Buffer out;
        filter->process(bytesOf(stored.substr(0, boundary + into)), out);
        EXPECT_EQ(out.size(), boundary) << into;  // unit 0 resealed, unit 1 waits whole
        filter->process(bytesOf(stored.substr(boundary + into)), out);
        filter->finish(out);
        io::Buffer opened;
        crypto::openUnit(*key_, kTo, 1, out.span().subspan(boundary), opened, "test");
        EXPECT_EQ(textOf(opened), "frame one") << into;
    }
}

TEST_F(RepoReseal, EmptyInputGivesEmptyOutput) {
    EXPECT_EQ(reseal(key_, "", 1), "");
}

TEST_F(RepoReseal, TruncatedInputNamesTheUnit) {
    std::string stored = sealUnits(*key_, kFrom, plain_);
    size_t cut = crypto::sealedSize(plain_[0].size()) + 100;  // inside unit 1
    Error e = errorOf([&] { reseal(key_, stored.substr(0, cut), 4096); });
    EXPECT_EQ(e.code(), ErrorCode::Crypto);
    EXPECT_TRUE(
        has(e.what(), std::string("'") + kContext + "' ends inside sealed unit 1 (100 bytes"))
        << e.what();
    EXPECT_TRUE(has(e.what(), "truncated")) << e.what();
}

TEST_F(RepoReseal, PlaintextInputIsNotSealed) {
    Error e = errorOf([&] { reseal(key_, std::string(100, 'p'), 100); });
    EXPECT_EQ(e.code(), ErrorCode::Crypto);
    EXPECT_TRUE(has(e.what(), "is not sealed where unit 0 should start")) << e.what();
    EXPECT_TRUE(has(e.what(), kContext)) << e.what();
}

TEST_F(RepoReseal, SecondUnitNotSealedNamesIt) {
    std::string stored = sealUnits(*key_, kFrom, {plain_[0]}) + std::string(64, 'z');
    Error e = errorOf([&] { reseal(key_, stored, 4096); });
    EXPECT_EQ(e.code(), ErrorCode::Crypto);
    EXPECT_TRUE(has(e.what(), "is not sealed where unit 1 should start")) << e.what();
}

// A chunk length over 64 KiB is damage: the filter must not wait for gigabytes that never come.
TEST_F(RepoReseal, DamagedChunkHeaderIsCryptoError) {
    std::string stored = sealUnits(*key_, kFrom, {plain_[0]});
    stored[crypto::kSealHeaderBytes + 2] = '\x7f';  // length now ~8 MiB, last-chunk bit clear
    Error e = errorOf([&] { reseal(key_, stored, 4096); });
    EXPECT_EQ(e.code(), ErrorCode::Crypto);
    EXPECT_TRUE(
        has(e.what(), std::string("'") + kContext + "': sealed unit 0 has a damaged chunk header"))
        << e.what();
}

// Bytes sealed for another file (or another key) are refused, not resealed as this one's.
TEST_F(RepoReseal, UnitOfAnotherPieceIsRefused) {
    std::string stored =
        sealUnits(*key_, "backup/main/20261121-235959F/pg_data/base/1/1249.zst", {plain_[0]});
    Error e = errorOf([&] { reseal(key_, stored, 4096); });
    EXPECT_EQ(e.code(), ErrorCode::Crypto);
    EXPECT_TRUE(has(e.what(), kContext)) << e.what();

    Error other = errorOf(
        [&] { reseal(crypto::RepoKey::generate(), sealUnits(*key_, kFrom, {plain_[0]}), 4096); });
    EXPECT_EQ(other.code(), ErrorCode::Crypto);
}
