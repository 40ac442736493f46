// WAL archive: push (identity checks, dedup, duplicates refused), find and get, against a real
// repo.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>

#include "common/error.h"
#include "io/sha256.h"
#include "repo/wal_archive.h"
#include "repo/wal_spool.h"
#include "storage/posix.h"
#include "test/unit/temp_dir.h"
#include "test/unit/test_support.h"
#include "test/unit/wal_segment_support.h"

namespace backrest::repo {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kSysId = 7310000000000000001ULL;
constexpr uint32_t kSegSize = 16 * 1024 * 1024;
const std::string kSeg = "000000010000000000000001";

using backrest::test::errorOf;

using backrest::test::has;

// A 16 MiB segment with the given identity (test/unit/wal_segment_support.h).
std::string segment(uint64_t sysid, uint32_t seed, uint16_t magic = 0xD110) {
    return test::syntheticWalSegment(sysid, seed, kSegSize, magic);
}

class RepoWalArchive : public ::testing::Test {
  protected:
    void SetUp() override {
        fs::create_directories(root_ + "/pg/pg_wal");
        fs::create_directories(root_ + "/repo");
        fs::create_directories(root_ + "/restore");
        fs::create_directories(root_ + "/spool");
        repo_ = std::make_unique<storage::PosixStorage>(root_ + "/repo");
        pg_ = std::make_unique<storage::PosixStorage>(root_ + "/pg");
        restore_ = std::make_unique<storage::PosixStorage>(root_ + "/restore");
        info_.history = {{1, "15", kSysId}};
        saveArchiveInfo(*repo_, layout_, info_);
    }

    void put(const std::string& rel, const std::string& bytes) {
        std::ofstream(root_ + "/" + rel, std::ios::binary) << bytes;
    }
    std::string get(const std::string& rel) {
        std::ifstream in(root_ + "/" + rel, std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(in), {});
    }
    PushResult push(const std::string& name, uint64_t clusterSysId = kSysId) {
        return pushWal(*repo_, layout_, info_, *pg_, "pg_wal/" + name, "15", clusterSysId, {});
    }
    size_t entries(const std::string& rel) {
        size_t n = 0;
        if (!fs::exists(root_ + "/" + rel)) return 0;
        for (auto it = fs::directory_iterator(root_ + "/" + rel); it != fs::directory_iterator();
             ++it)
            n++;
        return n;
    }

    Layout layout_{"main", nullptr};
    ArchiveInfo info_;
    backrest::test::TempDir tmp_{"repo-wal"};
    std::string root_ = tmp_.path();
    std::unique_ptr<storage::PosixStorage> repo_, pg_, restore_;
};

TEST_F(RepoWalArchive, PushStoresCompressedUnderShaName) {
    std::string bytes = segment(kSysId, 1);
    put("pg/pg_wal/" + kSeg, bytes);
    EXPECT_EQ(push(kSeg), PushResult::Stored);
    std::string sha = io::sha256Hex(bytes);
    std::string stored = "repo/archive/main/15-1/0000000100000000/" + kSeg + "-" + sha + ".zst";
    ASSERT_TRUE(fs::exists(root_ + "/" + stored));
    EXPECT_EQ(entries("repo/archive/main/15-1/0000000100000000"), 1u);
    EXPECT_LT(fs::file_size(root_ + "/" + stored), bytes.size() + 4096);

    auto found = findWal(*repo_, layout_, "15-1", kSeg);
    ASSERT_TRUE(found);
    EXPECT_EQ(found->archiveId, "15-1");
    EXPECT_EQ(found->path, "archive/main/15-1/0000000100000000/" + kSeg + "-" + sha + ".zst");
    EXPECT_EQ(found->sha256, sha);
    EXPECT_EQ(found->compressType, io::CompressType::Zst);
    EXPECT_FALSE(findWal(*repo_, layout_, "15-1", "000000010000000000000002"));
    EXPECT_FALSE(findWal(*repo_, layout_, "15-2", kSeg));
}

TEST_F(RepoWalArchive, PushSameFileAgainIsAlreadyPresent) {
    put("pg/pg_wal/" + kSeg, segment(kSysId, 1));
    ASSERT_EQ(push(kSeg), PushResult::Stored);
    EXPECT_EQ(push(kSeg), PushResult::AlreadyPresent);
    EXPECT_EQ(entries("repo/archive/main/15-1/0000000100000000"), 1u);
}

// A temporary file a failed push could not remove (its process gone) goes with the next push of
// that segment; one of a live process (this one), or of another segment, stays.
TEST_F(RepoWalArchive, PushRemovesTemporaryFilesOfDeadPushes) {
    const std::string dir = "repo/archive/main/15-1/0000000100000000/";
    const std::string sha(64, 'a');
    fs::create_directories(root_ + "/" + dir);
    std::string dead = kSeg + "-" + sha + ".zst.99999999.0.tmp";  // above any pid_max
    std::string live = kSeg + "-" + sha + ".zst." + std::to_string(::getpid()) + ".3.tmp";
    std::string other = "000000010000000000000002-" + sha + ".zst.99999999.0.tmp";
    for (const auto& name : {dead, live, other}) put(dir + name, "partial");
    put("pg/pg_wal/" + kSeg, segment(kSysId, 1));
    ASSERT_EQ(push(kSeg), PushResult::Stored);
    EXPECT_FALSE(fs::exists(root_ + "/" + dir + dead));
    EXPECT_TRUE(fs::exists(root_ + "/" + dir + live));
    EXPECT_TRUE(fs::exists(root_ + "/" + dir + other));
    // Found again by a push that finds the segment already there.
    put(dir + dead, "partial");
    EXPECT_EQ(push(kSeg), PushResult::AlreadyPresent);
    EXPECT_FALSE(fs::exists(root_ + "/" + dir + dead));
}

TEST_F(RepoWalArchive, PushDifferentFileSameNameIsDuplicate) {
    put("pg/pg_wal/" + kSeg, segment(kSysId, 1));
    ASSERT_EQ(push(kSeg), PushResult::Stored);
    auto found = findWal(*repo_, layout_, "15-1", kSeg);
    ASSERT_TRUE(found);
    std::string before = get("repo/" + found->path);

    std::string other = segment(kSysId, 2);
    put("pg/pg_wal/" + kSeg, other);
    Error e = errorOf([&] { push(kSeg); });
    EXPECT_EQ(e.code(), ErrorCode::ArchiveDuplicate);
    EXPECT_TRUE(has(e.what(), kSeg)) << e.what();
    EXPECT_TRUE(has(e.what(), found->sha256)) << e.what();
    EXPECT_TRUE(has(e.what(), io::sha256Hex(other))) << e.what();
    EXPECT_EQ(get("repo/" + found->path), before);
    EXPECT_EQ(entries("repo/archive/main/15-1/0000000100000000"), 1u);
}

TEST_F(RepoWalArchive, ClusterIdentityMismatch) {
    put("pg/pg_wal/" + kSeg, segment(kSysId + 1, 1));
    Error e = errorOf([&] { push(kSeg, kSysId + 1); });
    EXPECT_EQ(e.code(), ErrorCode::DbMismatch);
    EXPECT_TRUE(has(e.what(), std::to_string(kSysId))) << e.what();
    EXPECT_TRUE(has(e.what(), std::to_string(kSysId + 1))) << e.what();
    EXPECT_FALSE(fs::exists(root_ + "/repo/archive/main/15-1"));

    Error v =
        errorOf([&] { pushWal(*repo_, layout_, info_, *pg_, "pg_wal/" + kSeg, "16", kSysId, {}); });
    EXPECT_EQ(v.code(), ErrorCode::DbMismatch);
}

TEST_F(RepoWalArchive, HeaderIdentityMismatch) {
    put("pg/pg_wal/" + kSeg, segment(kSysId + 7, 1));
    Error e = errorOf([&] { push(kSeg); });
    EXPECT_EQ(e.code(), ErrorCode::DbMismatch);
    EXPECT_TRUE(has(e.what(), "WAL segment " + kSeg)) << e.what();
    EXPECT_TRUE(has(e.what(), std::to_string(kSysId + 7))) << e.what();
    EXPECT_FALSE(fs::exists(root_ + "/repo/archive/main/15-1"));

    put("pg/pg_wal/" + kSeg, segment(kSysId, 1, 0xD10D));  // written by PostgreSQL 14
    EXPECT_EQ(errorOf([&] { push(kSeg); }).code(), ErrorCode::DbMismatch);

    put("pg/pg_wal/" + kSeg, std::string(100, 'x'));  // not a segment start
    Error f = errorOf([&] { push(kSeg); });
    EXPECT_EQ(f.code(), ErrorCode::Format);
    EXPECT_TRUE(has(f.what(), root_ + "/pg/pg_wal/" + kSeg)) << f.what();
}

TEST_F(RepoWalArchive, RejectsOtherNames) {
    put("pg/pg_wal/notwal", "x");
    EXPECT_EQ(errorOf([&] { push("notwal"); }).code(), ErrorCode::Command);
}

TEST_F(RepoWalArchive, GetRoundTrip) {
    std::string bytes = segment(kSysId, 3);
    put("pg/pg_wal/" + kSeg, bytes);
    ASSERT_EQ(push(kSeg), PushResult::Stored);
    EXPECT_TRUE(getWal(*repo_, layout_, info_, kSeg, *restore_, "RECOVERYXLOG", 65536));
    EXPECT_EQ(get("restore/RECOVERYXLOG"), bytes);
    EXPECT_EQ(entries("restore"), 1u);
}

TEST_F(RepoWalArchive, GetUnknownIsFalse) {
    EXPECT_FALSE(getWal(*repo_, layout_, info_, kSeg, *restore_, "RECOVERYXLOG", 65536));
    EXPECT_FALSE(fs::exists(root_ + "/restore/RECOVERYXLOG"));
}

// What archive-get asks of the repository (each a request on an object store; the S3 and Azure
// drivers log each at debug level, which test/integration/archive_get_requests.sh counts): the
// storage it reads through, with every operation counted.
class CountingStorage : public storage::Storage {
  public:
    explicit CountingStorage(storage::Storage& inner) : inner_(inner) {}
    std::map<std::string, int> calls;

    storage::Features features() const override { return inner_.features(); }
    std::unique_ptr<storage::StorageRead> openRead(const std::string& path, bool ignoreMissing,
                                                   const storage::ReadRange& range) override {
        calls["openRead"]++;
        return inner_.openRead(path, ignoreMissing, range);
    }
    std::unique_ptr<storage::StorageWrite> openWrite(
        const std::string& path, const storage::WriteOptions& options) override {
        calls["openWrite"]++;
        return inner_.openWrite(path, options);
    }
    std::optional<storage::FileInfo> info(const std::string& path, bool followLink) override {
        calls["info"]++;
        return inner_.info(path, followLink);
    }
    std::vector<storage::FileInfo> list(const std::string& path, bool ignoreMissing) override {
        calls["list"]++;
        return inner_.list(path, ignoreMissing);
    }
    std::vector<storage::FileInfo> listPrefix(const std::string& path,
                                              const std::string& namePrefix) override {
        calls["listPrefix"]++;
        return inner_.listPrefix(path, namePrefix);
    }
    void remove(const std::string& path, bool errorOnMissing) override {
        calls["remove"]++;
        inner_.remove(path, errorOnMissing);
    }
    void removePath(const std::string& path, bool recursive) override {
        calls["removePath"]++;
        inner_.removePath(path, recursive);
    }
    std::string fullPath(const std::string& path) const override { return inner_.fullPath(path); }

  private:
    storage::Storage& inner_;
};

// pgBackRest's three: archive.info, a listing by the segment's own name, the segment. A missing
// segment costs the first two; a damaged archive.info one more read, of its .copy.
TEST_F(RepoWalArchive, ArchiveGetReadsArchiveInfoListsBySegmentAndReadsIt) {
    std::string bytes = segment(kSysId, 9);
    put("pg/pg_wal/" + kSeg, bytes);
    ASSERT_EQ(push(kSeg), PushResult::Stored);
    put("pg/pg_wal/000000010000000000000010", segment(kSysId, 10));  // a neighbour by prefix
    ASSERT_EQ(push("000000010000000000000010"), PushResult::Stored);
    auto fetch = [&](const std::string& walName) {
        CountingStorage counted(*repo_);
        auto opened = openArchiveInfo(counted, layout_, {});
        bool found = getWal(counted, layout_, opened.info, walName, *restore_, "RECOVERYXLOG",
                            65536, kSysId);
        return std::make_pair(found, counted.calls);
    };
    using Calls = std::map<std::string, int>;
    auto [found, calls] = fetch(kSeg);
    EXPECT_TRUE(found);
    EXPECT_EQ(get("restore/RECOVERYXLOG"), bytes);
    EXPECT_EQ(calls, (Calls{{"openRead", 2}, {"listPrefix", 1}}));
    std::tie(found, calls) = fetch("000000010000000000000002");
    EXPECT_FALSE(found);
    EXPECT_EQ(calls, (Calls{{"openRead", 1}, {"listPrefix", 1}}));
    // The main archive.info damaged: its .copy serves, one read more.
    std::string infoFile = "repo/" + layout_.archiveInfo();
    std::string damaged = get(infoFile);
    damaged[damaged.size() / 2] ^= 1;
    put(infoFile, damaged);
    std::tie(found, calls) = fetch(kSeg);
    EXPECT_TRUE(found);
    EXPECT_EQ(calls, (Calls{{"openRead", 3}, {"listPrefix", 1}}));
}

TEST_F(RepoWalArchive, GetSearchesOlderArchiveIds) {
    std::string bytes = segment(kSysId, 4);
    put("pg/pg_wal/" + kSeg, bytes);
    ASSERT_EQ(push(kSeg), PushResult::Stored);
    ArchiveInfo upgraded{{{1, "15", kSysId}, {2, "16", kSysId + 1}}};
    EXPECT_TRUE(getWal(*repo_, layout_, upgraded, kSeg, *restore_, "RECOVERYXLOG", 65536));
    EXPECT_EQ(get("restore/RECOVERYXLOG"), bytes);
}

// A new initdb recorded by stanza-upgrade (same version, new system): both clusters have their
// own segment 1. A restore of either gets its own; one of a third cluster is refused.
TEST_F(RepoWalArchive, GetServesEachSystemFromItsOwnArchiveId) {
    std::string older = segment(kSysId, 4);
    put("pg/pg_wal/" + kSeg, older);
    ASSERT_EQ(push(kSeg), PushResult::Stored);
    ASSERT_TRUE(recordNewDatabase(info_.history, "15", kSysId + 1));
    EXPECT_EQ(info_.currentArchiveId(), "15-2");
    std::string newer = segment(kSysId + 1, 5);
    put("pg/pg_wal/" + kSeg, newer);
    ASSERT_EQ(push(kSeg, kSysId + 1), PushResult::Stored);
    ASSERT_TRUE(findWal(*repo_, layout_, "15-2", kSeg));

    EXPECT_TRUE(getWal(*repo_, layout_, info_, kSeg, *restore_, "A", 65536, kSysId));
    EXPECT_EQ(get("restore/A"), older);
    EXPECT_TRUE(getWal(*repo_, layout_, info_, kSeg, *restore_, "B", 65536, kSysId + 1));
    EXPECT_EQ(get("restore/B"), newer);
    // Segment 2 exists for neither: not archived, even though the search spans two ids.
    EXPECT_FALSE(
        getWal(*repo_, layout_, info_, "000000010000000000000002", *restore_, "C", 65536, kSysId));
    Error e =
        errorOf([&] { getWal(*repo_, layout_, info_, kSeg, *restore_, "D", 65536, kSysId + 7); });
    EXPECT_EQ(e.code(), ErrorCode::DbMismatch);
    EXPECT_TRUE(has(e.what(), std::to_string(kSysId + 7))) << e.what();
    EXPECT_FALSE(fs::exists(root_ + "/restore/D"));
}

// The old cluster's push after the upgrade is refused, naming both systems and the way out.
TEST_F(RepoWalArchive, PushOfTheReplacedClusterNamesBothAndStanzaUpgrade) {
    put("pg/pg_wal/" + kSeg, segment(kSysId + 1, 6));
    Error e = errorOf([&] { push(kSeg, kSysId + 1); });
    EXPECT_EQ(e.code(), ErrorCode::DbMismatch);
    EXPECT_TRUE(has(e.what(), std::to_string(kSysId + 1))) << e.what();
    EXPECT_TRUE(has(e.what(), std::to_string(kSysId))) << e.what();
    EXPECT_TRUE(has(e.what(), "run 'backrest --stanza=main stanza-upgrade'")) << e.what();
    EXPECT_EQ(entries("repo/archive/main/15-1"), 0u);
}

TEST_F(RepoWalArchive, DamagedStoredFileIsRefused) {
    put("pg/pg_wal/" + kSeg, segment(kSysId, 5));
    ASSERT_EQ(push(kSeg), PushResult::Stored);
    auto found = findWal(*repo_, layout_, "15-1", kSeg);
    ASSERT_TRUE(found);
    std::string stored = get("repo/" + found->path);
    stored[stored.size() / 2] ^= 0x01;
    put("repo/" + found->path, stored);
    Error e =
        errorOf([&] { getWal(*repo_, layout_, info_, kSeg, *restore_, "RECOVERYXLOG", 65536); });
    EXPECT_TRUE(e.code() == ErrorCode::Checksum || e.code() == ErrorCode::Compress) << e.what();
    EXPECT_TRUE(has(e.what(), found->path)) << e.what();
    EXPECT_EQ(entries("restore"), 0u);
}

TEST_F(RepoWalArchive, HistoryFileStoredUncompressed) {
    std::string history = "1\t0/3000000\tno recovery target specified\n";
    put("pg/pg_wal/00000002.history", history);
    EXPECT_EQ(push("00000002.history"), PushResult::Stored);
    std::string sha = io::sha256Hex(history);
    std::string stored = "repo/archive/main/15-1/00000002.history-" + sha;
    ASSERT_TRUE(fs::exists(root_ + "/" + stored));
    EXPECT_EQ(get(stored), history);

    auto found = findWal(*repo_, layout_, "15-1", "00000002.history");
    ASSERT_TRUE(found);
    EXPECT_EQ(found->compressType, io::CompressType::None);
    EXPECT_EQ(found->sha256, sha);
    EXPECT_EQ(push("00000002.history"), PushResult::AlreadyPresent);

    EXPECT_TRUE(
        getWal(*repo_, layout_, info_, "00000002.history", *restore_, "RECOVERYHISTORY", 65536));
    EXPECT_EQ(get("restore/RECOVERYHISTORY"), history);
}

TEST_F(RepoWalArchive, BackupHistoryFileStoredBesideSegments) {
    std::string name = "000000010000000000000002.00000028.backup";
    std::string content = "START WAL LOCATION: 0/2000028 (file 000000010000000000000002)\n";
    put("pg/pg_wal/" + name, content);
    EXPECT_EQ(push(name), PushResult::Stored);
    auto found = findWal(*repo_, layout_, "15-1", name);
    ASSERT_TRUE(found);
    EXPECT_EQ(found->path,
              "archive/main/15-1/0000000100000000/" + name + "-" + io::sha256Hex(content) + ".zst");
    EXPECT_TRUE(getWal(*repo_, layout_, info_, name, *restore_, "x", 65536));
    EXPECT_EQ(get("restore/x"), content);
}

TEST_F(RepoWalArchive, FindRefusesTwoStoredCopies) {
    fs::create_directories(root_ + "/repo/archive/main/15-1/0000000100000000");
    put("repo/archive/main/15-1/0000000100000000/" + kSeg + "-" + std::string(64, 'a') + ".zst",
        "x");
    put("repo/archive/main/15-1/0000000100000000/" + kSeg + "-" + std::string(64, 'b') + ".zst",
        "y");
    put("repo/archive/main/15-1/0000000100000000/" + kSeg + ".partial-" + std::string(64, 'c') +
            ".zst",
        "z");
    Error e = errorOf([&] { findWal(*repo_, layout_, "15-1", kSeg); });
    EXPECT_EQ(e.code(), ErrorCode::Format);
    EXPECT_TRUE(has(e.what(), kSeg)) << e.what();
}

// A segment stored from the replication stream, in pieces as they arrive: the same stored file
// as a push of the complete segment, de-duplicated against one, and nothing left when abandoned.
class RepoStreamedWal : public RepoWalArchive {
  protected:
    std::unique_ptr<StreamedWal> open(uint64_t clusterSysId = kSysId) {
        PushOptions options;
        options.spoolPath = root_ + "/spool";
        return std::make_unique<StreamedWal>(*repo_, layout_, info_, kSeg, "15", clusterSysId,
                                             options);
    }
    // Writes `bytes` in uneven pieces, as WAL messages arrive.
    static void feed(StreamedWal& w, const std::string& bytes) {
        size_t at = 0, piece = 7;
        while (at < bytes.size()) {
            size_t n = std::min(piece, bytes.size() - at);
            w.write({reinterpret_cast<const uint8_t*>(bytes.data() + at), n});
            at += n;
            piece = piece * 3 % 200000 + 1;
        }
    }
};

TEST_F(RepoStreamedWal, StoresWhatAPushWouldStore) {
    std::string bytes = segment(kSysId, 5);
    auto w = open();
    feed(*w, bytes);
    EXPECT_EQ(w->size(), bytes.size());
    EXPECT_EQ(w->finish(), PushResult::Stored);
    w.reset();
    auto found = findWal(*repo_, layout_, "15-1", kSeg);
    ASSERT_TRUE(found);
    EXPECT_EQ(found->sha256, io::sha256Hex(bytes));
    EXPECT_EQ(entries("repo/archive/main/15-1/0000000100000000"), 1u);  // no temporary file left
    EXPECT_EQ(entries("spool"), 0u);                                    // nor a spool file
    EXPECT_TRUE(getWal(*repo_, layout_, info_, kSeg, *restore_, kSeg, 65536));
    EXPECT_EQ(get("restore/" + kSeg), bytes);
    // The archiver's push of the same file afterwards finds it.
    put("pg/pg_wal/" + kSeg, bytes);
    EXPECT_EQ(push(kSeg), PushResult::AlreadyPresent);
}

TEST_F(RepoStreamedWal, AlreadyPushedIsAlreadyPresentAndOtherBytesAreRefused) {
    std::string bytes = segment(kSysId, 6);
    put("pg/pg_wal/" + kSeg, bytes);
    ASSERT_EQ(push(kSeg), PushResult::Stored);
    auto same = open();
    feed(*same, bytes);
    EXPECT_EQ(same->finish(), PushResult::AlreadyPresent);
    same.reset();
    EXPECT_EQ(entries("repo/archive/main/15-1/0000000100000000"), 1u);

    auto other = open();
    feed(*other, segment(kSysId, 7));
    Error e = errorOf([&] { other->finish(); });
    EXPECT_EQ(e.code(), ErrorCode::ArchiveDuplicate);
    EXPECT_TRUE(has(e.what(), "streamed WAL segment " + kSeg)) << e.what();
    other.reset();
    EXPECT_EQ(entries("repo/archive/main/15-1/0000000100000000"), 1u);
}

TEST_F(RepoStreamedWal, WrongIdentityOrShortSegmentIsRefusedAndAbandonedLeavesNothing) {
    EXPECT_EQ(errorOf([&] { open(kSysId + 1); }).code(), ErrorCode::DbMismatch);

    auto foreign = open();
    feed(*foreign, segment(kSysId + 1, 8));  // another cluster's WAL through this connection
    Error e = errorOf([&] { foreign->finish(); });
    EXPECT_EQ(e.code(), ErrorCode::DbMismatch);
    foreign.reset();

    auto shorter = open();
    feed(*shorter, segment(kSysId, 9).substr(0, kSegSize / 2));
    e = errorOf([&] { shorter->finish(); });
    EXPECT_EQ(e.code(), ErrorCode::Format);
    EXPECT_TRUE(has(e.what(), "8388608 bytes, its header says 16777216")) << e.what();
    shorter.reset();

    auto abandoned = open();
    feed(*abandoned, segment(kSysId, 10).substr(0, 1000000));
    abandoned.reset();
    EXPECT_FALSE(findWal(*repo_, layout_, "15-1", kSeg));
    EXPECT_EQ(entries("repo/archive/main/15-1/0000000100000000"), 0u);
    EXPECT_EQ(entries("spool"), 0u);
}

// While it streams, the segment is only in spool-path: nothing at all is in the repository (an
// object store has no rename: what is written there is written once, under its final name).
TEST_F(RepoStreamedWal, UntilFinishedTheSegmentIsOnlyInTheSpool) {
    std::string bytes = segment(kSysId, 11);
    auto w = open();
    feed(*w, bytes.substr(0, kSegSize / 2));
    w->sealFrame();
    w->syncWritten();
    EXPECT_EQ(entries("repo/archive/main/15-1/0000000100000000"), 0u);
    ASSERT_EQ(entries("spool"), 1u);
    std::string spooled = fs::directory_iterator(root_ + "/spool")->path().filename();
    EXPECT_TRUE(spooled.starts_with("main-" + kSeg + ".stream." + std::to_string(::getpid()) + "."))
        << spooled;
    feed(*w, bytes.substr(kSegSize / 2));
    EXPECT_EQ(w->finish(), PushResult::Stored);
    EXPECT_EQ(entries("spool"), 0u);
    EXPECT_EQ(entries("repo/archive/main/15-1/0000000100000000"), 1u);
}

// A streamed WAL without a spool-path is a programming error, named.
TEST_F(RepoStreamedWal, NoSpoolPathIsRefused) {
    Error e =
        errorOf([&] { StreamedWal w(*repo_, layout_, info_, kSeg, "15", kSysId, PushOptions{}); });
    EXPECT_EQ(e.code(), ErrorCode::Assert);
    EXPECT_TRUE(has(e.what(), "no spool-path")) << e.what();
}

// What dead daemons left: their spool files, and the ".stream.<pid>.tmp" backrest 0.1.0 wrote into
// a posix repository. A live process's files stay.
TEST_F(RepoStreamedWal, AbandonedSpoolAndLegacyStreamFilesGoWhenTheirProcessIsGone) {
    const std::string dead = "4194302";  // above the default pid_max (32768): no such process
    const std::string live = std::to_string(::getpid());
    for (const auto& name :
         {"main-" + kSeg + ".stream." + dead + ".0", "main-" + kSeg + ".stream." + live + ".0",
          "other-" + kSeg + ".stream." + dead + ".0", std::string("unrelated")})
        put("spool/" + name, "x");
    removeAbandonedSpool(root_ + "/spool", "main");
    EXPECT_FALSE(fs::exists(root_ + "/spool/main-" + kSeg + ".stream." + dead + ".0"));
    EXPECT_TRUE(fs::exists(root_ + "/spool/main-" + kSeg + ".stream." + live + ".0"));
    EXPECT_TRUE(
        fs::exists(root_ + "/spool/other-" + kSeg + ".stream." + dead + ".0"));  // another stanza's
    EXPECT_TRUE(fs::exists(root_ + "/spool/unrelated"));

    const std::string dir = "repo/archive/main/15-1/0000000100000000/";
    fs::create_directories(root_ + "/" + dir);
    put(dir + kSeg + ".stream." + dead + ".tmp", "x");
    put(dir + kSeg + ".stream." + live + ".tmp", "x");
    removeLegacyStreamFiles(*repo_, layout_, "15-1", kSeg);
    EXPECT_FALSE(fs::exists(root_ + "/" + dir + kSeg + ".stream." + dead + ".tmp"));
    EXPECT_TRUE(fs::exists(root_ + "/" + dir + kSeg + ".stream." + live + ".tmp"));
}

// A spool-path that cannot be made is named, with what to do.
TEST_F(RepoStreamedWal, UnusableSpoolPathIsNamed) {
    Error e = errorOf([&] { ensureSpoolDirectory(root_ + "/missing/spool"); });
    EXPECT_EQ(e.code(), ErrorCode::FileOpen);
    EXPECT_TRUE(has(e.what(), root_ + "/missing/spool")) << e.what();
    EXPECT_TRUE(has(e.what(), "spool-path")) << e.what();
    ensureSpoolDirectory(root_ + "/made");
    EXPECT_TRUE(fs::is_directory(root_ + "/made"));
    EXPECT_EQ(fs::status(root_ + "/made").permissions() & fs::perms::others_all, fs::perms::none);
}

}  // namespace
}  // namespace backrest::repo
