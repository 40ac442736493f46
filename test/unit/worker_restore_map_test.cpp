// Unit tests for worker/restore_map: where a restore puts each target, file and link, and the
// errors that name a bad --tablespace-map value or manifest link.
#include <gtest/gtest.h>

#include "test_support.h"
#include "worker/restore_map.h"

namespace backrest::cmd {
namespace {

using test::errorOf;
using test::has;

repo::Manifest twoTablespaces() {
    repo::Manifest m;
    m.label = "20261205-120000F";
    m.targets.push_back({"pg_data", "/orig/data", 0, ""});
    m.targets.push_back({"pg_tblspc/16385", "/orig/ts1", 16385, "ts1"});
    m.targets.push_back({"pg_tblspc/16386", "/orig/ts2", 16386, ""});
    m.links.push_back({"pg_data/pg_tblspc/16385", "/orig/ts1"});
    m.links.push_back({"pg_data/pg_tblspc/16386", "/orig/ts2"});
    return m;
}

TEST(RestoreMapTest, TablespaceMapParsesOidOrNameToPath) {
    auto remap = parseTablespaceMap({"16385=/new/a", "ts2=/new/b=c"});
    EXPECT_EQ(remap.size(), 2u);
    EXPECT_EQ(remap["16385"], "/new/a");
    EXPECT_EQ(remap["ts2"], "/new/b=c");
}

TEST(RestoreMapTest, TablespaceMapNamesTheBadValue) {
    for (std::string bad : {"16385", "=/new", "16385=", "16385=relative/path"}) {
        auto e = errorOf([&] { parseTablespaceMap({"1=/ok", bad}); });
        EXPECT_EQ(e.code(), ErrorCode::Option) << bad;
        EXPECT_TRUE(has(e.what(), "invalid value '" + bad + "' for option 'tablespace-map'"))
            << e.what();
    }
}

TEST(RestoreMapTest, TargetsKeepTheirLocationUnlessRemapped) {
    auto m = twoTablespaces();
    auto kept = mapTargets(m, "/restore/data", {}, std::nullopt);
    EXPECT_EQ(kept.at("pg_data"), "/restore/data");
    EXPECT_EQ(kept.at("pg_tblspc/16385"), "/orig/ts1");
    EXPECT_EQ(kept.at("pg_tblspc/16386"), "/orig/ts2");

    // By name, by oid, and every other one under --tablespace-map-all (by name, else oid).
    auto moved = mapTargets(m, "/restore/data", {{"ts1", "/new/one"}}, std::string("/all"));
    EXPECT_EQ(moved.at("pg_tblspc/16385"), "/new/one");
    EXPECT_EQ(moved.at("pg_tblspc/16386"), "/all/16386");
    auto byOid = mapTargets(m, "/restore/data", {{"16386", "/new/two"}}, std::nullopt);
    EXPECT_EQ(byOid.at("pg_tblspc/16386"), "/new/two");
}

TEST(RestoreMapTest, LinkedWalIsATargetAtItsDestination) {
    auto m = twoTablespaces();
    m.links.push_back({"pg_data/pg_wal", "/orig/wal"});
    EXPECT_EQ(mapTargets(m, "/d", {}, std::nullopt).at("pg_data/pg_wal"), "/orig/wal");
}

TEST(RestoreMapTest, RemapOfAnUnknownTablespaceIsRefused) {
    auto e = errorOf([] { mapTargets(twoTablespaces(), "/d", {{"nope", "/x"}}, std::nullopt); });
    EXPECT_EQ(e.code(), ErrorCode::Option);
    EXPECT_TRUE(has(e.what(), "backup 20261205-120000F has no tablespace with oid or name 'nope'"))
        << e.what();
}

TEST(RestoreMapTest, TwoTargetsInOneDirectoryAreRefused) {
    auto m = twoTablespaces();
    auto same = errorOf([&] { mapTargets(m, "/d", {{"ts1", "/orig/ts2/"}}, std::nullopt); });
    EXPECT_EQ(same.code(), ErrorCode::Option);
    EXPECT_TRUE(has(same.what(),
                    "pg_tblspc/16385 and pg_tblspc/16386 of backup "
                    "20261205-120000F would both be restored into '/orig/ts2'"))
        << same.what();
    auto nested = errorOf([&] { mapTargets(m, "/d", {{"ts1", "/orig/ts2/x"}}, std::nullopt); });
    EXPECT_TRUE(has(nested.what(), "would both be restored in or under '/orig/ts2'"))
        << nested.what();
    // Only tablespaces are checked against each other for nesting, not pg1-path.
    EXPECT_NO_THROW(mapTargets(m, "/orig", {}, std::nullopt));
}

TEST(RestoreMapTest, DestinationIsUnderTheLongestTarget) {
    TargetLocations l{{"pg_data", "/d"}, {"pg_data/pg_wal", "/w"}, {"pg_tblspc/1", "/t"}};
    EXPECT_EQ(destinationOf(l, "pg_data/base/1/1259"), "/d/base/1/1259");
    EXPECT_EQ(destinationOf(l, "pg_data/pg_wal/000000010000000000000001"),
              "/w/000000010000000000000001");
    EXPECT_EQ(destinationOf(l, "pg_data/pg_walx"), "/d/pg_walx");
    EXPECT_EQ(destinationOf(l, "pg_tblspc/1/PG_16_1"), "/t/PG_16_1");
    auto e = errorOf([&] { destinationOf(l, "pg_tblspc/2/PG_16_1"); });
    EXPECT_EQ(e.code(), ErrorCode::Format);
    EXPECT_TRUE(has(e.what(), "manifest entry 'pg_tblspc/2/PG_16_1' belongs to no target"));
}

TEST(RestoreMapTest, LinkIsMadeInPgPathToItsRestoredLocation) {
    TargetLocations l{{"pg_data", "/d"}, {"pg_tblspc/16385", "/new/ts1"}};
    auto ts = restoredLink({"pg_data/pg_tblspc/16385", "/orig/ts1"}, "/d", l);
    EXPECT_EQ(ts.path, "/d/pg_tblspc/16385");
    EXPECT_EQ(ts.destination, "/new/ts1");
    auto wal = restoredLink({"pg_data/pg_wal", "/orig/wal"}, "/d", l);
    EXPECT_EQ(wal.path, "/d/pg_wal");
    EXPECT_EQ(wal.destination, "/orig/wal");
}

TEST(RestoreMapTest, LinkOutsidePgDataOrToAnUnknownTablespaceIsNamed) {
    TargetLocations l{{"pg_data", "/d"}};
    auto outside = errorOf([&] { restoredLink({"pg_tblspc/16385", "/x"}, "/d", l); });
    EXPECT_EQ(outside.code(), ErrorCode::Format);
    EXPECT_TRUE(has(outside.what(), "manifest link 'pg_tblspc/16385' is not under pg_data"))
        << outside.what();
    auto unknown = errorOf([&] { restoredLink({"pg_data/pg_tblspc/16385", "/x"}, "/d", l); });
    EXPECT_EQ(unknown.code(), ErrorCode::Format);
    EXPECT_TRUE(has(unknown.what(),
                    "manifest link 'pg_data/pg_tblspc/16385' is to tablespace "
                    "pg_tblspc/16385, which is not a target of the backup"))
        << unknown.what();
}

}  // namespace
}  // namespace backrest::cmd
