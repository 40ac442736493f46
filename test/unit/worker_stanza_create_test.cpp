// stanza-create (worker/stanza_create.h): records the cluster's identity once, is idempotent for
// the same cluster, completes a half-created stanza, and refuses another cluster or version.
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

namespace backrest::cmd {
namespace {

using test::errorOf;
using test::has;

class WorkerStanzaCreate : public ::testing::Test {
  protected:
    WorkerStanzaCreate() : repo_(dir_ / "repo") {
        std::filesystem::create_directories(pg_ + "/global");
        cluster("15", 7310000000000000001ULL);
    }

    // PG_VERSION and the leading fields of global/pg_control (system identifier first).
    void cluster(const std::string& version, uint64_t systemId) {
        test::writeFile(pg_ + "/PG_VERSION", version + "\n");
        std::string control(8192, '\0');
        std::memcpy(control.data(), &systemId, 8);
        test::writeFile(pg_ + "/global/pg_control", control);
    }

    test::TempDir dir_{"worker-stanza-create"};
    std::string pg_ = dir_ / "pg";
    storage::PosixStorage repo_;
    repo::Layout layout_{"main", nullptr};
};

}  // namespace

TEST_F(WorkerStanzaCreate, RecordsTheClusterThenHasNothingToDo) {
    EXPECT_EQ(createStanza(repo_, layout_, pg_),
              "stanza 'main' created in '" + repo_.fullPath("") +
                  "' for PostgreSQL 15 system 7310000000000000001");
    auto backup = repo::requireBackupInfo(repo_, layout_);
    auto archive = repo::requireArchiveInfo(repo_, layout_);
    EXPECT_EQ(backup.current().systemId, 7310000000000000001ULL);
    EXPECT_EQ(backup.current().version, "15");
    EXPECT_TRUE(backup.backups.empty());
    EXPECT_EQ(archive.currentArchiveId(), "15-1");

    EXPECT_EQ(createStanza(repo_, layout_, pg_),
              "stanza 'main' already exists for PostgreSQL 15 system 7310000000000000001; nothing "
              "to do");
}

// Interrupted between its two files: run again, it writes the missing one.
TEST_F(WorkerStanzaCreate, CompletesAHalfCreatedStanza) {
    repo::saveArchiveInfo(repo_, layout_, repo::ArchiveInfo{{{1, "15", 7310000000000000001ULL}}});
    EXPECT_TRUE(has(createStanza(repo_, layout_, pg_), "created")) << "backup.info written";
    EXPECT_TRUE(repo::loadBackupInfo(repo_, layout_).has_value());
}

TEST_F(WorkerStanzaCreate, AnotherClusterIsRefused) {
    createStanza(repo_, layout_, pg_);
    cluster("15", 42);
    Error e = errorOf([&] { createStanza(repo_, layout_, pg_); });
    EXPECT_EQ(e.code(), ErrorCode::DbMismatch);
    EXPECT_TRUE(has(e.what(),
                    "stanza-create: PostgreSQL 15 with system identifier 42 does not match stanza "
                    "'main', which was created for PostgreSQL 15 with system identifier "
                    "7310000000000000001"))
        << e.what();
}

// Even with only archive.info left of the stanza, another cluster's WAL is not mixed in.
TEST_F(WorkerStanzaCreate, AnotherClusterIsRefusedByArchiveInfoAlone) {
    repo::saveArchiveInfo(repo_, layout_, repo::ArchiveInfo{{{1, "15", 99}}});
    Error e = errorOf([&] { createStanza(repo_, layout_, pg_); });
    EXPECT_EQ(e.code(), ErrorCode::DbMismatch);
    EXPECT_TRUE(has(e.what(), "system identifier 99")) << e.what();
    EXPECT_FALSE(repo::loadBackupInfo(repo_, layout_).has_value());  // nothing written
}

TEST_F(WorkerStanzaCreate, UnsupportedVersionIsRefusedNamingTheDirectory) {
    cluster("14", 1);
    Error e = errorOf([&] { createStanza(repo_, layout_, pg_); });
    EXPECT_EQ(e.code(), ErrorCode::DbMismatch);
    EXPECT_EQ(std::string(e.what()),
              "PostgreSQL 14 in '" + pg_ + "' is not supported by this backrest (15 is)");
    EXPECT_FALSE(repo::loadArchiveInfo(repo_, layout_).has_value());
}

TEST_F(WorkerStanzaCreate, MissingDataDirectoryIsAnError) {
    Error e = errorOf([&] { createStanza(repo_, layout_, dir_ / "absent"); });
    EXPECT_TRUE(has(e.what(), dir_ / "absent")) << e.what();
    EXPECT_FALSE(repo::loadBackupInfo(repo_, layout_).has_value());
}

}  // namespace backrest::cmd
