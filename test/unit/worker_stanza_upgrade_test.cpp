// stanza-upgrade (worker/stanza_upgrade.h): a new cluster in pg1-path becomes the stanza's next
// db-id in both info files, old backups stay; a rerun changes nothing; a run interrupted between
// the two files is finished by the next; a stanza whose files disagree is refused untouched.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <string>

#include "common/error.h"
#include "repo/info.h"
#include "repo/layout.h"
#include "storage/posix.h"
#include "test/unit/temp_dir.h"
#include "test/unit/test_support.h"
#include "worker/stanza_create.h"
#include "worker/stanza_upgrade.h"

namespace backrest::cmd {
namespace {

using test::errorOf;
using test::has;

constexpr uint64_t kOld = 7310000000000000001ULL;
constexpr uint64_t kNew = 7310000000000000002ULL;

class WorkerStanzaUpgrade : public ::testing::Test {
  protected:
    WorkerStanzaUpgrade() : repo_(dir_ / "repo") {
        std::filesystem::create_directories(pg_ + "/global");
        cluster(kOld);
    }

    // PG_VERSION and the leading fields of global/pg_control (system identifier first).
    void cluster(uint64_t systemId, const std::string& version = "15") {
        test::writeFile(pg_ + "/PG_VERSION", version + "\n");
        std::string control(8192, '\0');
        std::memcpy(control.data(), &systemId, 8);
        test::writeFile(pg_ + "/global/pg_control", control);
    }

    // The stanza of the old cluster with one backup of it.
    void stanzaWithABackup() {
        createStanza(repo_, layout_, pg_);
        auto info = repo::requireBackupInfo(repo_, layout_);
        repo::BackupSummary full;
        full.label = "20261201-000000F";
        full.type = "full";
        full.dbId = 1;
        info.backups.push_back(full);
        repo::saveBackupInfo(repo_, layout_, info);
    }

    test::TempDir dir_{"worker-stanza-upgrade"};
    std::string pg_ = dir_ / "pg";
    storage::PosixStorage repo_;
    repo::Layout layout_{"main", nullptr};
};

}  // namespace

TEST_F(WorkerStanzaUpgrade, NewInitdbBecomesDbIdTwoAndOldBackupsStay) {
    stanzaWithABackup();
    cluster(kNew);
    EXPECT_EQ(upgradeStanza(repo_, layout_, pg_),
              "stanza 'main' upgraded to PostgreSQL 15 system 7310000000000000002 (db-id 2, WAL "
              "in archive id 15-2); the backups and WAL of earlier db-ids are kept");
    auto backup = repo::requireBackupInfo(repo_, layout_);
    auto archive = repo::requireArchiveInfo(repo_, layout_);
    ASSERT_EQ(backup.history.size(), 2u);
    EXPECT_EQ(backup.history[0].id, 1);
    EXPECT_EQ(backup.history[0].systemId, kOld);
    EXPECT_EQ(backup.current().id, 2);
    EXPECT_EQ(backup.current().systemId, kNew);
    EXPECT_EQ(archive.currentArchiveId(), "15-2");
    EXPECT_EQ(archive.history.front().systemId, kOld);
    ASSERT_EQ(backup.backups.size(), 1u);
    EXPECT_EQ(backup.backups[0].dbId, 1);
    // The new cluster is now the stanza's: stanza-create agrees, nothing to do.
    EXPECT_TRUE(has(createStanza(repo_, layout_, pg_), "already exists")) << "create after";
}

TEST_F(WorkerStanzaUpgrade, SameClusterIsAlreadyUpToDate) {
    createStanza(repo_, layout_, pg_);
    EXPECT_EQ(upgradeStanza(repo_, layout_, pg_),
              "stanza 'main' is already up to date (db-id 1: PostgreSQL 15 system "
              "7310000000000000001)");
    cluster(kNew);
    upgradeStanza(repo_, layout_, pg_);
    EXPECT_TRUE(has(upgradeStanza(repo_, layout_, pg_), "already up to date (db-id 2")) << "rerun";
    EXPECT_EQ(repo::requireArchiveInfo(repo_, layout_).history.size(), 2u);
}

// A major upgrade: version and system identifier both change.
TEST_F(WorkerStanzaUpgrade, VersionChangeIsRecordedToo) {
    createStanza(repo_, layout_, pg_);
    repo::ArchiveInfo archive = repo::requireArchiveInfo(repo_, layout_);
    ASSERT_TRUE(repo::recordNewDatabase(archive.history, "16", kNew));
    EXPECT_EQ(repo::ArchiveInfo::archiveId(archive.current()), "16-2");
    EXPECT_FALSE(repo::recordNewDatabase(archive.history, "16", kNew));
    ASSERT_TRUE(repo::recordNewDatabase(archive.history, "15", kNew));  // version alone differs
    EXPECT_EQ(archive.current().id, 3);
}

// kill -9 after archive.info was written, before backup.info: the rerun adds the same db-id to
// backup.info and leaves archive.info as it is.
TEST_F(WorkerStanzaUpgrade, RerunFinishesAnUpgradeInterruptedBetweenTheFiles) {
    stanzaWithABackup();
    auto archive = repo::requireArchiveInfo(repo_, layout_);
    repo::recordNewDatabase(archive.history, "15", kNew);
    repo::saveArchiveInfo(repo_, layout_, archive);
    cluster(kNew);
    EXPECT_TRUE(has(upgradeStanza(repo_, layout_, pg_), "upgraded")) << "finished";
    auto backup = repo::requireBackupInfo(repo_, layout_);
    EXPECT_EQ(backup.current().id, 2);
    EXPECT_EQ(backup.current().systemId, kNew);
    EXPECT_EQ(backup.backups.size(), 1u);
    EXPECT_EQ(repo::requireArchiveInfo(repo_, layout_).history.size(), 2u);
}

TEST_F(WorkerStanzaUpgrade, DisagreeingInfoFilesAreRefusedAndLeftAlone) {
    createStanza(repo_, layout_, pg_);
    // archive.info already at a third cluster: the two files cannot both reach the same db-id.
    auto archive = repo::requireArchiveInfo(repo_, layout_);
    repo::recordNewDatabase(archive.history, "15", 99);
    repo::saveArchiveInfo(repo_, layout_, archive);
    cluster(kNew);
    Error e = errorOf([&] { upgradeStanza(repo_, layout_, pg_); });
    EXPECT_EQ(e.code(), ErrorCode::Format);
    EXPECT_TRUE(has(e.what(),
                    "backup.info: db-id 2, PostgreSQL 15, system identifier "
                    "7310000000000000002; archive.info: db-id 3"))
        << e.what();
    EXPECT_EQ(repo::requireBackupInfo(repo_, layout_).history.size(), 1u) << "nothing written";
    EXPECT_EQ(repo::requireArchiveInfo(repo_, layout_).history.size(), 2u);
}

TEST_F(WorkerStanzaUpgrade, MissingStanzaSaysStanzaCreate) {
    Error e = errorOf([&] { upgradeStanza(repo_, layout_, pg_); });
    EXPECT_EQ(e.code(), ErrorCode::Stanza);
    EXPECT_TRUE(has(e.what(), "stanza-create")) << e.what();
}

TEST_F(WorkerStanzaUpgrade, UnsupportedVersionIsRefusedBeforeAnyWrite) {
    createStanza(repo_, layout_, pg_);
    cluster(kNew, "14");
    Error e = errorOf([&] { upgradeStanza(repo_, layout_, pg_); });
    EXPECT_EQ(e.code(), ErrorCode::DbMismatch);
    EXPECT_TRUE(has(e.what(), "PostgreSQL 14")) << e.what();
    EXPECT_EQ(repo::requireArchiveInfo(repo_, layout_).history.size(), 1u);
}

// After the upgrade the replaced cluster is refused like any other, naming both systems.
TEST_F(WorkerStanzaUpgrade, IdentityCheckNamesBothAndPointsAtStanzaUpgrade) {
    repo::DbIdentity recorded{2, "15", kNew};
    Error e = errorOf([&] { repo::checkIdentity(recorded, "15", kOld, "main", "backup"); });
    EXPECT_EQ(e.code(), ErrorCode::DbMismatch);
    EXPECT_EQ(std::string(e.what()),
              "backup: PostgreSQL 15 with system identifier 7310000000000000001 does not match "
              "stanza 'main', which was created for PostgreSQL 15 with system identifier "
              "7310000000000000002 (db-id 2); after a pg_upgrade or a new initdb of this cluster "
              "run 'backrest --stanza=main stanza-upgrade', otherwise check that this is the "
              "right stanza and repository");
}

}  // namespace backrest::cmd
