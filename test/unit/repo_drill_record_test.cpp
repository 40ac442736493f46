// The drill history: a record's JSON round trip, its checks on bad input, the ids, and the
// keeping of the newest kDrillHistoryKept records in the repository.
#include <gtest/gtest.h>

#include <fstream>

#include "common/error.h"
#include "repo/checksummed_json.h"
#include "repo/drill_record.h"
#include "storage/posix.h"
#include "test/unit/temp_dir.h"
#include "test/unit/test_support.h"

namespace backrest::repo {
namespace {

using nlohmann::json;
using test::errorOf;
using test::has;

// The error `expr` raises has `code` and `part` in its message.
#define EXPECT_THAT_ERROR(expr, wantCode, part)                   \
    do {                                                          \
        Error raised_ = errorOf([&] { (void)(expr); });           \
        EXPECT_EQ(raised_.code(), wantCode);                      \
        EXPECT_TRUE(has(raised_.what(), part)) << raised_.what(); \
    } while (0)

DrillRecord sample() {
    DrillRecord r;
    r.id = "20261206-114716030";
    r.backup = "20261206-114500F";
    r.backupType = "full";
    r.passed = false;
    r.targetRequested = "end of archive";
    r.reachedLsn = "0/9000060";
    r.reachedSegment = "000000010000000000000009";
    r.reachedTime = "2026-12-06 11:46:00.123456+00";
    r.endOfArchive = true;
    r.walStart = "000000010000000000000004";
    r.walReplayed = 6;
    r.durations = {{"plan", 0.01},    {"restore", 1.5}, {"start", 0.2},
                   {"recovery", 0.8}, {"checks", 0.4},  {"stop", 0.3}};
    r.started = 1796557620;
    r.stopped = 1796557624;
    r.databases = 3;
    r.btreeIndexes = 200;
    r.heaps = 100;
    r.tables = 4;
    r.rowCounts = {{"bench", "public.pgbench_accounts", 200777}};
    r.failures = {{"bench", "public.pgbench_accounts_pkey", "bt_index_check",
                   "item order invariant violated"}};
    return r;
}

TEST(RepoDrillRecord, RoundTripKeepsEveryField) {
    DrillRecord r = sample();
    DrillRecord back = drillFromJson(drillJson(r), "test");
    EXPECT_EQ(drillJson(back), drillJson(r));
    EXPECT_EQ(back.failures.at(0).relation, "public.pgbench_accounts_pkey");
    EXPECT_EQ(back.rowCounts.at(0).rows, 200777);
    EXPECT_FALSE(back.passed);
    // Phases come back in the order a drill runs them, whatever order JSON keeps keys in.
    ASSERT_EQ(back.durations.size(), 6u);
    EXPECT_EQ(back.durations.front().first, "plan");
    EXPECT_EQ(back.durations.back().first, "stop");
    EXPECT_DOUBLE_EQ(back.duration("recovery"), 0.8);
}

TEST(RepoDrillRecord, FailedBeforeRecoveryHasNullsAndLoads) {
    DrillRecord r;
    r.id = "20261206-114716030";
    r.error = "[023] FileMissingError: segment 000000010000000000000005 missing";
    r.failedPhase = "plan";
    r.durations = {{"plan", 0.01}, {"stop", 0}};
    json doc = drillJson(r);
    EXPECT_TRUE(doc["backup"]["label"].is_null());
    EXPECT_TRUE(doc["target"]["reached"]["lsn"].is_null());
    DrillRecord back = drillFromJson(doc, "test");
    EXPECT_EQ(back.error, r.error);
    EXPECT_EQ(back.failedPhase, "plan");
}

TEST(RepoDrillRecord, BadDocumentsNameTheRecordAndKey) {
    json doc = drillJson(sample());
    doc.erase("checks");
    EXPECT_THAT_ERROR(drillFromJson(doc, "drill/x.json"), ErrorCode::Format,
                      "drill record 'drill/x.json' has no 'checks'");
    doc = drillJson(sample());
    doc["result"] = "maybe";
    EXPECT_THAT_ERROR(drillFromJson(doc, "r"), ErrorCode::Format, "neither passed nor failed");
    doc = drillJson(sample());
    doc["format"] = 2;
    EXPECT_THAT_ERROR(drillFromJson(doc, "r"), ErrorCode::Format, "upgrade backrest");
    doc = drillJson(sample());
    doc["wal"]["replayed"] = "six";
    EXPECT_THAT_ERROR(drillFromJson(doc, "r"), ErrorCode::Format, "'replayed' is not of the");
}

TEST(RepoDrillRecord, IdsSortByTime) {
    EXPECT_EQ(drillId(1796557620123), "20261206-114700123");
    EXPECT_EQ(drillId(1796557620005), "20261206-114700005");
    EXPECT_TRUE(isDrillId("20261206-114700123"));
    EXPECT_FALSE(isDrillId("20261206-114700"));
    EXPECT_FALSE(isDrillId("20261206F114700123"));
    EXPECT_FALSE(isDrillId("2026120a-114700123"));
}

TEST(RepoDrillRecord, KeepsTheNewestAndSurvivesADamagedCopy) {
    test::TempDir dir("repo-drill");
    storage::PosixStorage repo(dir.path());
    Layout layout{"main"};
    for (size_t i = 0; i < kDrillHistoryKept + 3; i++) {
        DrillRecord r = sample();
        r.id = drillId(1796557620000 + static_cast<int64_t>(i) * 1000);
        r.passed = i % 2 == 0;
        saveDrill(repo, layout, r);
    }
    auto ids = listDrills(repo, layout);
    ASSERT_EQ(ids.size(), kDrillHistoryKept);
    EXPECT_EQ(ids.front(), drillId(1796557620000 + 3000));
    // The main file damaged: the copy answers.
    std::ofstream(dir.path() + "/" + drillPath(layout, ids.back()), std::ios::trunc) << "{\"x\":";
    auto loaded = loadDrills(repo, layout, 2);
    ASSERT_EQ(loaded.size(), 2u);
    EXPECT_EQ(loaded.back().id, ids.back());
    // Both copies damaged: an error naming the record, not a record taken for good.
    std::ofstream(dir.path() + "/" + drillPath(layout, ids.back()) + ".copy", std::ios::trunc)
        << "{}";
    EXPECT_THROW(loadDrills(repo, layout), Error);
}

}  // namespace
}  // namespace backrest::repo
