// Repository layout: backup labels and where each metadata, backup and WAL file lives.
#include <gtest/gtest.h>

#include <string>

#include "repo/layout.h"

namespace backrest::repo {
namespace {

TEST(RepoLayout, FullLabel) {
    EXPECT_EQ(fullLabel(0), "19700101-000000F");
    EXPECT_EQ(fullLabel(1795305599), "20261121-235959F");
    EXPECT_EQ(fullLabel(951827696), "20000229-123456F");
}

TEST(RepoLayout, DependentLabel) {
    EXPECT_EQ(dependentLabel("20261121-235959F", 1795309200, 'D'),
              "20261121-235959F_20261122-010000D");
    EXPECT_EQ(dependentLabel("20261121-235959F", 1795309200, 'I'),
              "20261121-235959F_20261122-010000I");
}

TEST(RepoLayout, RecognizesLabels) {
    EXPECT_TRUE(isBackupLabel("20261121-235959F"));
    EXPECT_TRUE(isBackupLabel(fullLabel(0)));
    EXPECT_TRUE(isBackupLabel("20261121-235959F_20261122-010000D"));
    EXPECT_TRUE(isBackupLabel("20261121-235959F_20261122-010000I"));
    for (const char* bad :
         {"", "20261121-235959", "20261121-235959D", "20261121-235959I", "20261121_235959F",
          "2026112a-235959F", "20261121-235959FF", "20261121-235959F_20261122-010000F",
          "20261121-235959F_20261122-010000X", "20261121-235959D_20261122-010000I",
          "20261121-235959F-20261122-010000D", "20261121-235959F_20261122-010000", "backup.info",
          "latest"})
        EXPECT_FALSE(isBackupLabel(bad)) << bad;
}

TEST(RepoLayout, Paths) {
    Layout l{"main", nullptr};
    EXPECT_EQ(l.backupRoot(), "backup/main");
    EXPECT_EQ(l.backupInfo(), "backup/main/backup.info");
    EXPECT_EQ(l.backupDir("20261121-235959F"), "backup/main/20261121-235959F");
    EXPECT_EQ(l.manifest("20261121-235959F"), "backup/main/20261121-235959F/backup.manifest");
    EXPECT_EQ(l.backupFile("20261121-235959F", "pg_data/base/1/1259", ".zst"),
              "backup/main/20261121-235959F/pg_data/base/1/1259.zst");
    EXPECT_EQ(l.backupFile("20261121-235959F", "pg_tblspc/16400/PG_15_202209061/1/16401", ""),
              "backup/main/20261121-235959F/pg_tblspc/16400/PG_15_202209061/1/16401");
    EXPECT_EQ(l.archiveRoot(), "archive/main");
    EXPECT_EQ(l.archiveInfo(), "archive/main/archive.info");
    EXPECT_EQ(l.archiveIdDir("15-1"), "archive/main/15-1");
    EXPECT_EQ(l.walDir("15-1", "000000010000000A000000FE"), "archive/main/15-1/000000010000000A");
    EXPECT_EQ(l.walDir("15-2", "000000020000000000000003.00000028.backup"),
              "archive/main/15-2/0000000200000000");
}

TEST(RepoLayout, LabelTimeIsTheBackupsOwnTime) {
    EXPECT_EQ(labelTime("20261121-235959F"), "20261121-235959");
    EXPECT_EQ(labelTime("20261121-235959F_20261122-000001I"), "20261122-000001");
    // An incr and a diff of the same second would sort D before I: the time part alone orders.
    EXPECT_LT(labelTime("20261121-235959F_20261122-000001I"),
              labelTime("20261121-235959F_20261122-000002D"));
}

}  // namespace
}  // namespace backrest::repo
