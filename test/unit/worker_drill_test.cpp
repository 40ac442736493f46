// The restore drill's pure parts: the server's answers turned into named failures, the
// settings its throwaway cluster starts with, and where it may work (drill-path).
#include <gtest/gtest.h>

#include <algorithm>

#include "common/error.h"
#include "test/unit/temp_dir.h"
#include "test/unit/test_support.h"
#include "worker/drill_checks.h"
#include "worker/drill_cluster.h"
#include "worker/drill_scratch.h"

namespace backrest::cmd {
namespace {

using test::errorOf;
using test::has;

TEST(WorkerDrillChecks, ServerMessageDropsTheWrapperAndTheQuery) {
    EXPECT_EQ(serverMessage("query failed on PostgreSQL (socket /tmp port 5432): ERROR:  index "
                            "\"i\" is corrupt\nDETAIL:  Index tid=(1,2). [query: SELECT "
                            "bt_index_check($1::oid::regclass, false)]"),
              "index \"i\" is corrupt DETAIL:  Index tid=(1,2).");
    EXPECT_EQ(serverMessage("no connection to the server"), "no connection to the server");
    EXPECT_EQ(serverMessage("query failed on PostgreSQL (port 1): FATAL:  terminating"),
              "terminating");
}

TEST(WorkerDrillChecks, HeapFailureListsTheFirstCorruptionsAndCountsTheRest) {
    EXPECT_FALSE(heapFailure("db", "public.t", {}));
    std::vector<pg::Row> rows;
    for (int i = 0; i < 5; i++)
        rows.push_back({std::to_string(i), i == 1 ? std::nullopt : std::optional<std::string>("3"),
                        std::nullopt,
                        "line pointer redirection to item at offset 9 exceeds "
                        "maximum offset 7"});
    auto f = heapFailure("bench", "public.pgbench_accounts", rows);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->database, "bench");
    EXPECT_EQ(f->relation, "public.pgbench_accounts");
    EXPECT_EQ(f->check, "verify_heapam");
    EXPECT_TRUE(has(f->message, "block 0, offset 3: line pointer")) << f->message;
    EXPECT_TRUE(has(f->message, "; block 1: line pointer")) << f->message;
    EXPECT_FALSE(has(f->message, "block 3")) << f->message;
    EXPECT_TRUE(has(f->message, "; and 2 more")) << f->message;
}

TEST(WorkerDrillChecks, ChecksumFailuresNameEachDatabaseAndSum) {
    uint64_t total = 99;
    auto none = checksumFailures({{"postgres", "0"}, {"bench", std::nullopt}}, total);
    EXPECT_TRUE(none.empty());
    EXPECT_EQ(total, 0u);
    auto some = checksumFailures({{std::nullopt, "1"}, {"bench", "3"}, {"postgres", "0"}}, total);
    EXPECT_EQ(total, 4u);
    ASSERT_EQ(some.size(), 2u);
    EXPECT_EQ(describeFailure(some[0]),
              "shared relations: page checksum: 1 page checksum failure counted by PostgreSQL");
    EXPECT_EQ(describeFailure(some[1]),
              "database \"bench\": page checksum: 3 page checksum failures counted by PostgreSQL");
}

TEST(WorkerDrillChecks, DescribeFailureNamesDatabaseRelationAndCheck) {
    EXPECT_EQ(describeFailure({"bench", "public.pgbench_accounts_pkey", "bt_index_check", "bad"}),
              "database \"bench\", relation public.pgbench_accounts_pkey: bt_index_check: bad");
    EXPECT_EQ(describeFailure({"db", "", "CREATE EXTENSION amcheck", "not available"}),
              "database \"db\": CREATE EXTENSION amcheck: not available");
}

TEST(WorkerDrillCluster, SettingsKeepTheClusterToItself) {
    auto s = drillServerSettings("/d/backrest-drill-main", 57401, "/d/hba.conf");
    auto has = [&](const std::string& setting) {
        return std::find(s.begin(), s.end(), setting) != s.end();
    };
    EXPECT_TRUE(has("port=57401"));
    EXPECT_TRUE(has("listen_addresses="));
    EXPECT_TRUE(has("unix_socket_directories=/d/backrest-drill-main"));
    EXPECT_TRUE(has("archive_mode=off"));
    EXPECT_TRUE(has("shared_preload_libraries="));
    EXPECT_TRUE(has("synchronous_standby_names="));
    EXPECT_TRUE(has("hba_file=/d/hba.conf"));
    // A directory with a list separator is quoted for PostgreSQL's list parser.
    auto spaced = drillServerSettings("/a b/x", 1, "/h");
    EXPECT_TRUE(std::find(spaced.begin(), spaced.end(), "unix_socket_directories=\"/a b/x\"") !=
                spaced.end());
}

TEST(WorkerDrillScratch, DrillPathMayNotOverlapTheClusterOrTheRepository) {
    test::TempDir dir("worker-drill");
    std::string pg = dir.path() + "/pg", repo = dir.path() + "/repo";
    std::vector<std::pair<std::string, std::string>> kept = {{"pg1-path", pg},
                                                             {"repo1-path", repo}};
    auto p = drillPaths(dir.path() + "/drill/", "main", kept);
    EXPECT_EQ(p.scratch, dir.path() + "/drill/backrest-drill-main");
    EXPECT_EQ(p.data, p.scratch + "/data");
    EXPECT_EQ(p.lockFile, p.scratch + ".lock");

    Error inside = errorOf([&] { drillPaths(pg + "/sub", "main", kept); });
    EXPECT_EQ(inside.code(), ErrorCode::Option);
    EXPECT_TRUE(has(inside.what(), "is inside pg1-path ('" + pg + "')")) << inside.what();
    Error same = errorOf([&] { drillPaths(repo + "/./", "main", kept); });
    EXPECT_TRUE(has(same.what(), "the same directory as repo1-path")) << same.what();
    // pg1-path under the scratch directory, which every drill removes.
    Error under = errorOf([&] {
        drillPaths(dir.path(), "main", {{"pg1-path", dir.path() + "/backrest-drill-main/pg"}});
    });
    EXPECT_TRUE(has(under.what(), "is inside the drill's scratch directory")) << under.what();
    Error relative = errorOf([&] { drillPaths("drill", "main", kept); });
    EXPECT_TRUE(has(relative.what(), "must be an absolute path")) << relative.what();
    EXPECT_FALSE(pathWithin(dir.path() + "/pgx", pg));  // a prefix of the name is not inside
    EXPECT_TRUE(pathWithin(pg + "/a/../b", pg));
}

TEST(WorkerDrillScratch, SpaceNeededIsTheBackupAndItsMargin) {
    EXPECT_EQ(drillSpaceNeeded(0), 64ull << 20);
    EXPECT_EQ(drillSpaceNeeded(1000ull << 20), (1000ull << 20) + (100ull << 20) + (64ull << 20));
}

}  // namespace
}  // namespace backrest::cmd
