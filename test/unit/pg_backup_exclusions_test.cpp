// Base backup exclusion rules: runtime files, temporary files and relations, relation names.
#include <gtest/gtest.h>

#include <string>

#include "pg/backup_exclusions.h"

namespace backrest::pg {
namespace {

TEST(PgBackupExclusions, TopLevelRuntimeFilesOnly) {
    for (const char* name :
         {"postmaster.pid", "postmaster.opts", "backup_label", "tablespace_map", "backup_label.old",
          "backup_manifest", "current_logfiles", "postgresql.auto.conf.tmp", "recovery.signal",
          "standby.signal", "backrest.restore"}) {
        SCOPED_TRACE(name);
        EXPECT_TRUE(isExcludedFile(name, name));
        EXPECT_FALSE(isExcludedFile(std::string("base/1/") + name, name));
        EXPECT_FALSE(isExcludedFile(std::string("conf.d/") + name, name));
    }
    EXPECT_FALSE(isExcludedFile("PG_VERSION", "PG_VERSION"));
    EXPECT_FALSE(isExcludedFile("postgresql.auto.conf", "postgresql.auto.conf"));
    EXPECT_FALSE(isExcludedFile("postmaster.pid.bak", "postmaster.pid.bak"));
    EXPECT_FALSE(isExcludedFile("global/pg_control", "pg_control"));
}

TEST(PgBackupExclusions, RelcacheInitAnywhere) {
    EXPECT_TRUE(isExcludedFile("global/pg_internal.init", "pg_internal.init"));
    EXPECT_TRUE(isExcludedFile("base/16384/pg_internal.init", "pg_internal.init"));
    EXPECT_TRUE(isExcludedFile("base/16384/pg_internal.init.1234", "pg_internal.init.1234"));
    EXPECT_TRUE(isExcludedFile("pg_internal.init", "pg_internal.init"));
    EXPECT_FALSE(isExcludedFile("base/16384/pg_internal", "pg_internal"));
}

TEST(PgBackupExclusions, PgsqlTmpAnywhere) {
    EXPECT_TRUE(isTemporaryName("pgsql_tmp"));
    EXPECT_TRUE(isTemporaryName("pgsql_tmp12345.0"));
    EXPECT_TRUE(isExcludedFile("base/pgsql_tmp", "pgsql_tmp"));
    EXPECT_TRUE(isExcludedFile("pg_tblspc/16400/PG_15_202209061/pgsql_tmp", "pgsql_tmp"));
    EXPECT_FALSE(isTemporaryName("pgsql_tm"));
    EXPECT_FALSE(isTemporaryName("my_pgsql_tmp"));
}

TEST(PgBackupExclusions, TemporaryRelations) {
    for (const char* name : {"t3_16384", "t3_16384_fsm", "t3_16384_vm", "t12_16384.1",
                             "t3_16384_init", "t3_16384_fsm.2"}) {
        SCOPED_TRACE(name);
        EXPECT_TRUE(isTemporaryName(name));
        EXPECT_TRUE(isExcludedFile(std::string("base/1/") + name, name));
    }
    for (const char* name : {"16384", "16384_vm", "16384.12", "16384_fsm", "t_16384", "tx_16384",
                             "t3_", "t3_abc", "t3", "t3_16384.", "t3_16384_x", "PG_VERSION"}) {
        SCOPED_TRACE(name);
        EXPECT_FALSE(isTemporaryName(name));
        EXPECT_FALSE(isExcludedFile(std::string("base/1/") + name, name));
    }
}

TEST(PgBackupExclusions, RelfilenodeOf) {
    EXPECT_EQ(relfilenodeOf("16384"), "16384");
    EXPECT_EQ(relfilenodeOf("16384_fsm"), "16384");
    EXPECT_EQ(relfilenodeOf("16384_vm"), "16384");
    EXPECT_EQ(relfilenodeOf("16384_init"), "16384");
    EXPECT_EQ(relfilenodeOf("16384.12"), "16384");
    EXPECT_EQ(relfilenodeOf("16384_vm.3"), "16384");
    EXPECT_EQ(relfilenodeOf("16384_init.1"), "16384");
    EXPECT_EQ(relfilenodeOf("1"), "1");
    EXPECT_EQ(relfilenodeOf(""), "");
    EXPECT_EQ(relfilenodeOf("PG_VERSION"), "");
    EXPECT_EQ(relfilenodeOf("pg_filenode.map"), "");
    EXPECT_EQ(relfilenodeOf("16384."), "");
    EXPECT_EQ(relfilenodeOf("16384.1a"), "");
    EXPECT_EQ(relfilenodeOf("16384_foo"), "");
    EXPECT_EQ(relfilenodeOf("16384_fsm."), "");
    EXPECT_EQ(relfilenodeOf("x16384"), "");
}

TEST(PgBackupExclusions, RelfilenodeOfRejectsUnknownForkSuffix) {
    EXPECT_EQ(relfilenodeOf("16384_fsmx"), "");
    EXPECT_EQ(relfilenodeOf("16384_vmjunk.1"), "");
    EXPECT_EQ(relfilenodeOf("16384_initial"), "");
    EXPECT_FALSE(isTemporaryName("t3_16384_fsmx"));
}

TEST(PgBackupExclusions, ContentExcludedDirsAtTopLevel) {
    for (const char* dir : {"pg_wal", "pg_replslot", "pg_dynshmem", "pg_notify", "pg_serial",
                            "pg_snapshots", "pg_stat_tmp", "pg_subtrans"}) {
        SCOPED_TRACE(dir);
        EXPECT_TRUE(isContentExcludedDir(dir));
        EXPECT_FALSE(isContentExcludedDir(std::string("base/") + dir));
    }
    for (const char* dir : {"base", "global", "pg_xact", "pg_multixact", "pg_tblspc", "pg_stat",
                            "pg_logical", "pg_wal/archive_status", ""})
        EXPECT_FALSE(isContentExcludedDir(dir)) << dir;
}

}  // namespace
}  // namespace backrest::pg
