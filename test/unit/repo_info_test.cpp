// backup.info and archive.info: round trips, summaries, the stanza-create hint, identity checks.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "common/error.h"
#include "repo/info.h"
#include "storage/posix.h"
#include "test/unit/storage_drivers.h"
#include "test/unit/test_support.h"

namespace backrest::repo {
namespace {

namespace fs = std::filesystem;

using backrest::test::errorOf;

using backrest::test::has;

BackupSummary summary(const std::string& label, const std::string& type, const std::string& prior) {
    BackupSummary s;
    s.label = label;
    s.type = type;
    s.prior = prior;
    s.timestampStart = 1795305599;
    s.timestampStop = 1795305660;
    s.lsnStart = "0/2000028";
    s.lsnStop = "0/2000100";
    s.walStart = "000000010000000000000002";
    s.walStop = "000000010000000000000003";
    s.timeline = 2;
    s.size = 5000000000ULL;
    s.repoSize = 123456;
    s.fileCount = 987;
    s.dbId = 2;
    return s;
}

void expectEqual(const BackupSummary& a, const BackupSummary& b) {
    EXPECT_EQ(a.label, b.label);
    EXPECT_EQ(a.type, b.type);
    EXPECT_EQ(a.prior, b.prior);
    EXPECT_EQ(a.timestampStart, b.timestampStart);
    EXPECT_EQ(a.timestampStop, b.timestampStop);
    EXPECT_EQ(a.lsnStart, b.lsnStart);
    EXPECT_EQ(a.lsnStop, b.lsnStop);
    EXPECT_EQ(a.walStart, b.walStart);
    EXPECT_EQ(a.walStop, b.walStop);
    EXPECT_EQ(a.timeline, b.timeline);
    EXPECT_EQ(a.size, b.size);
    EXPECT_EQ(a.repoSize, b.repoSize);
    EXPECT_EQ(a.fileCount, b.fileCount);
    EXPECT_EQ(a.dbId, b.dbId);
}

void expectEqual(const std::vector<DbIdentity>& a, const std::vector<DbIdentity>& b) {
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); i++) {
        EXPECT_EQ(a[i].id, b[i].id);
        EXPECT_EQ(a[i].version, b[i].version);
        EXPECT_EQ(a[i].systemId, b[i].systemId);
    }
}

// Run against every storage driver (test/unit/storage_drivers.h): the info files are what a
// stanza is, wherever the repository lives.
class RepoInfo : public ::testing::TestWithParam<test::DriverMaker> {
  protected:
    void SetUp() override {
        auto made =
            GetParam().make(std::string("repo-info-") +
                            ::testing::UnitTest::GetInstance()->current_test_info()->name());
        if (!made.storage) GTEST_SKIP() << GetParam().name << ": " << made.skipReason;
        storage_ = std::move(made.storage);
    }

    storage::Storage& s() { return *storage_; }

    Layout layout_{"main", nullptr};
    std::vector<DbIdentity> history_{{1, "14", 7000000000000000001ULL},
                                     {2, "15", 18446744073709551615ULL}};
    std::unique_ptr<storage::Storage> storage_;
};

TEST_P(RepoInfo, BackupInfoRoundTripSortsByLabel) {
    BackupInfo info;
    info.history = history_;
    info.backups = {summary("20261121-235959F_20261122-010000I", "incr", "20261121-235959F"),
                    summary("20261121-235959F", "full", "")};
    saveBackupInfo(s(), layout_, info);
    EXPECT_TRUE(s().info("backup/main/backup.info"));
    EXPECT_TRUE(s().info("backup/main/backup.info.copy"));

    auto back = loadBackupInfo(s(), layout_);
    ASSERT_TRUE(back);
    expectEqual(back->history, history_);
    EXPECT_EQ(back->current().id, 2);
    EXPECT_EQ(back->current().version, "15");
    ASSERT_EQ(back->backups.size(), 2u);
    expectEqual(back->backups[0], info.backups[1]);
    expectEqual(back->backups[1], info.backups[0]);
}

TEST_P(RepoInfo, ArchiveInfoRoundTrip) {
    ArchiveInfo info;
    info.history = history_;
    saveArchiveInfo(s(), layout_, info);
    EXPECT_TRUE(s().info("archive/main/archive.info"));
    EXPECT_TRUE(s().info("archive/main/archive.info.copy"));
    auto back = loadArchiveInfo(s(), layout_);
    ASSERT_TRUE(back);
    expectEqual(back->history, history_);
    EXPECT_EQ(back->currentArchiveId(), "15-2");
}

TEST_P(RepoInfo, ArchiveId) {
    EXPECT_EQ(ArchiveInfo::archiveId({1, "15", 1}), "15-1");
    EXPECT_EQ(ArchiveInfo::archiveId({12, "16", 1}), "16-12");
    ArchiveInfo info{{{1, "15", 1}}};
    EXPECT_EQ(info.currentArchiveId(), "15-1");
}

TEST_P(RepoInfo, SummaryOfManifest) {
    Manifest m;
    m.label = "20261121-235959F_20261122-010000D";
    m.type = "diff";
    m.prior = "20261121-235959F";
    m.timestampStart = 10;
    m.timestampStop = 20;
    m.lsnStart = "0/5000028";
    m.lsnStop = "0/6000000";
    m.walStart = "000000010000000000000005";
    m.walStop = "000000010000000000000005";
    m.timeline = 4;
    m.dbId = 3;
    m.files = {{"pg_data/a",
                100,
                40,
                0,
                0600,
                "",
                "",
                std::string(64, 'a'),
                "",
                0,
                0,
                {},
                0,
                0,
                false,
                {}},
               {"pg_data/b",
                200,
                90,
                0,
                0600,
                "",
                "",
                std::string(64, 'b'),
                "20261121-235959F",
                0,
                0,
                {},
                0,
                0,
                false,
                {}},
               {"pg_data/c",
                300,
                10,
                0,
                0600,
                "",
                "",
                std::string(64, 'c'),
                "",
                0,
                0,
                {},
                0,
                0,
                false,
                {}}};
    BackupSummary sum = BackupSummary::of(m);
    EXPECT_EQ(sum.label, m.label);
    EXPECT_EQ(sum.type, "diff");
    EXPECT_EQ(sum.prior, "20261121-235959F");
    EXPECT_EQ(sum.timestampStart, 10);
    EXPECT_EQ(sum.timestampStop, 20);
    EXPECT_EQ(sum.lsnStart, "0/5000028");
    EXPECT_EQ(sum.lsnStop, "0/6000000");
    EXPECT_EQ(sum.walStart, "000000010000000000000005");
    EXPECT_EQ(sum.walStop, "000000010000000000000005");
    EXPECT_EQ(sum.timeline, 4u);
    EXPECT_EQ(sum.size, 600u);
    EXPECT_EQ(sum.repoSize, 50u);
    EXPECT_EQ(sum.fileCount, 3u);
    EXPECT_EQ(sum.dbId, 3);
    EXPECT_EQ(sum.repoSetSize, 140u);  // every file's stored bytes, referenced or not

    // A block-stored file's blocks held by earlier backups are read by a restore too.
    m.files[1].blockSize = 8192;
    m.files[1].referencedBlockBytes = 1000;
    EXPECT_EQ(BackupSummary::of(m).repoSetSize, 1140u);
    EXPECT_EQ(BackupSummary::of(m).repoSize, 50u);  // what this backup stored: unchanged
}

TEST_P(RepoInfo, Find) {
    BackupInfo info;
    info.history = history_;
    info.backups = {summary("20261121-235959F", "full", ""),
                    summary("20261121-235959F_20261122-010000I", "incr", "20261121-235959F")};
    const BackupSummary* found = info.find("20261121-235959F_20261122-010000I");
    ASSERT_NE(found, nullptr);
    EXPECT_EQ(found->type, "incr");
    EXPECT_EQ(info.find("20261121-235959F"), &info.backups[0]);
    EXPECT_EQ(info.find("20261121-235958F"), nullptr);
    EXPECT_EQ(info.find(""), nullptr);
}

TEST_P(RepoInfo, MissingFiles) {
    EXPECT_FALSE(loadBackupInfo(s(), layout_));
    EXPECT_FALSE(loadArchiveInfo(s(), layout_));

    Error e = errorOf([&] { requireBackupInfo(s(), layout_); });
    EXPECT_EQ(e.code(), ErrorCode::Stanza);
    EXPECT_TRUE(has(e.what(), "stanza-create")) << e.what();
    EXPECT_TRUE(has(e.what(), "'main'")) << e.what();
    EXPECT_TRUE(has(e.what(), "backup/main/backup.info")) << e.what();

    Error a = errorOf([&] { requireArchiveInfo(s(), layout_); });
    EXPECT_EQ(a.code(), ErrorCode::Stanza);
    EXPECT_TRUE(has(a.what(), "stanza-create")) << a.what();
    EXPECT_TRUE(has(a.what(), "archive/main/archive.info")) << a.what();
}

TEST_P(RepoInfo, RequireReturnsSaved) {
    saveArchiveInfo(s(), layout_, ArchiveInfo{history_});
    expectEqual(requireArchiveInfo(s(), layout_).history, history_);
    saveBackupInfo(s(), layout_, BackupInfo{history_, {}});
    BackupInfo b = requireBackupInfo(s(), layout_);
    expectEqual(b.history, history_);
    EXPECT_TRUE(b.backups.empty());
}

// archive-get's read of archive.info: the main file, its .copy when the main one is missing or
// damaged; no backup.info needed.
TEST_P(RepoInfo, OpenArchiveInfoFallsBackToTheCopyOnlyWhenNeeded) {
    Error none = errorOf([&] { openArchiveInfo(s(), layout_, {}); });
    EXPECT_EQ(none.code(), ErrorCode::Stanza);
    EXPECT_TRUE(has(none.what(), "archive/main/archive.info")) << none.what();

    saveArchiveInfo(s(), layout_, ArchiveInfo{history_});
    auto opened = openArchiveInfo(s(), layout_, {});
    expectEqual(opened.info.history, history_);
    EXPECT_EQ(opened.key, nullptr);

    // The copy differs from the main file: which one was read shows.
    std::vector<DbIdentity> other{{1, "15", 42}};
    std::string mainText = storage::readAll(s(), layout_.archiveInfo());
    saveArchiveInfo(s(), layout_, ArchiveInfo{other});
    storage::writeAll(s(), layout_.archiveInfo(), mainText);
    expectEqual(openArchiveInfo(s(), layout_, {}).info.history, history_);

    std::string damaged = mainText;
    damaged[damaged.size() / 2] ^= 1;
    storage::writeAll(s(), layout_.archiveInfo(), damaged);
    expectEqual(openArchiveInfo(s(), layout_, {}).info.history, other);
    storage::writeAll(s(), layout_.archiveInfo(), mainText.substr(0, 10));  // cut short
    expectEqual(openArchiveInfo(s(), layout_, {}).info.history, other);
    s().remove(layout_.archiveInfo());
    expectEqual(openArchiveInfo(s(), layout_, {}).info.history, other);

    // Both bad: the main file's error is the one raised.
    storage::writeAll(s(), layout_.archiveInfo(), damaged);
    storage::writeAll(s(), layout_.archiveInfo() + ".copy", "{\"format\":");
    Error both = errorOf([&] { openArchiveInfo(s(), layout_, {}); });
    EXPECT_EQ(both.code(), ErrorCode::Checksum) << both.what();
    EXPECT_TRUE(has(both.what(), s().fullPath(layout_.archiveInfo()))) << both.what();

    // A repository that is not encrypted, with settings that want a key.
    saveArchiveInfo(s(), layout_, ArchiveInfo{history_});
    Error plain = errorOf([&] { openArchiveInfo(s(), layout_, {"aes-256-gcm", "pass"}); });
    EXPECT_EQ(plain.code(), ErrorCode::Crypto);
    EXPECT_TRUE(has(plain.what(), "is not encrypted")) << plain.what();
    EXPECT_TRUE(has(plain.what(), s().fullPath(layout_.archiveInfo()))) << plain.what();
}

TEST_P(RepoInfo, CheckIdentity) {
    DbIdentity recorded{1, "15", 7310000000000000001ULL};
    EXPECT_NO_THROW(checkIdentity(recorded, "15", 7310000000000000001ULL, "main", "backup"));

    Error e =
        errorOf([&] { checkIdentity(recorded, "15", 7310000000000000002ULL, "main", "backup"); });
    EXPECT_EQ(e.code(), ErrorCode::DbMismatch);
    EXPECT_TRUE(has(e.what(), "7310000000000000001")) << e.what();
    EXPECT_TRUE(has(e.what(), "7310000000000000002")) << e.what();
    EXPECT_TRUE(has(e.what(), "'main'")) << e.what();
    EXPECT_TRUE(std::string(e.what()).starts_with("backup: ")) << e.what();

    Error v =
        errorOf([&] { checkIdentity(recorded, "16", 7310000000000000001ULL, "main", "backup"); });
    EXPECT_EQ(v.code(), ErrorCode::DbMismatch);
    EXPECT_TRUE(has(v.what(), "PostgreSQL 16")) << v.what();
    EXPECT_TRUE(has(v.what(), "PostgreSQL 15")) << v.what();
}

INSTANTIATE_TEST_SUITE_P(Drivers, RepoInfo, ::testing::ValuesIn(test::storageDrivers()),
                         [](const ::testing::TestParamInfo<test::DriverMaker>& p) {
                             return p.param.name;
                         });

}  // namespace
}  // namespace backrest::repo
