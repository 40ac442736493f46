// Timelines of an archive: history files parsed, the archive's listing read, side branches found,
// and the timeline a restore follows after a drill, a failover and a split brain.
#include <gtest/gtest.h>
#include <sys/time.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "common/error.h"
#include "pg/wal.h"
#include "repo/timelines.h"
#include "storage/posix.h"
#include "test/unit/temp_dir.h"
#include "test/unit/test_support.h"

namespace backrest::repo {
namespace {

namespace fs = std::filesystem;
using backrest::test::errorOf;
using backrest::test::has;

constexpr uint32_t kSegSize = 16 * 1024 * 1024;

TEST(RepoTimelines, ParsesHistoryLines) {
    auto h = parseTimelineHistory(
        "1\t0/5000000\tno recovery target specified\n\n# comment\n2\t0/9000028\tat restore point "
        "\"x\"\n",
        "00000003.history");
    ASSERT_EQ(h.size(), 2u);
    EXPECT_EQ(h[0].parent, 1u);
    EXPECT_EQ(h[0].switchLsn, 0x5000000u);
    EXPECT_EQ(h[1].parent, 2u);
    EXPECT_EQ(h[1].switchLsn, 0x9000028u);
}

TEST(RepoTimelines, MalformedHistoryNamesFileAndLine) {
    auto e = errorOf([] {
        parseTimelineHistory("1\t0/5000000\treason\nnonsense\n", "repo/00000002.history-ab");
    });
    EXPECT_EQ(e.code(), ErrorCode::Format);
    EXPECT_TRUE(has(e.what(), "repo/00000002.history-ab line 2")) << e.what();
    EXPECT_EQ(errorOf([] { parseTimelineHistory("1\tzz/5\treason\n", "h"); }).code(),
              ErrorCode::Format);
}

// A timeline as chooseTimeline sees it: branch (parent, LSN), last segment number and times.
ArchivedTimeline timeline(uint32_t id, std::optional<TimelineSwitch> branch, uint64_t lastSegno,
                          int64_t historyTime, int64_t lastTime) {
    ArchivedTimeline t;
    t.id = id;
    t.branch = branch;
    t.historyTime = historyTime;
    if (lastSegno) t.lastSegment = pg::WalSegment{id, lastSegno}.name(kSegSize);
    t.lastSegmentTime = lastTime;
    return t;
}

ArchiveTimelines archiveOf(std::initializer_list<ArchivedTimeline> list) {
    ArchiveTimelines a;
    a.segmentSize = kSegSize;
    for (const auto& t : list) a.timelines[t.id] = t;
    return a;
}

TEST(RepoTimelines, PastBranchMeansASegmentWhollyAfterTheBranchPoint) {
    // Branch at the start of segment 5: the parent's segment 5 holds only WAL after it.
    auto a = archiveOf(
        {timeline(1, {}, 5, 0, 100), timeline(2, TimelineSwitch{1, 0x5000000}, 6, 50, 60)});
    EXPECT_TRUE(a.archivedPastBranch(a.timelines.at(2)));
    // Branch inside segment 5: the parent's segment 5 may end where the child began (a failover).
    a.timelines.at(2).branch->switchLsn = 0x5000028;
    EXPECT_FALSE(a.archivedPastBranch(a.timelines.at(2)));
    a.timelines.at(1).lastSegment = pg::WalSegment{1, 6}.name(kSegSize);
    EXPECT_TRUE(a.archivedPastBranch(a.timelines.at(2)));
    EXPECT_EQ(sideBranches(a).size(), 1u);
    EXPECT_EQ(sideBranches(a)[0].parent, 1u);
}

TEST(RepoTimelines, DrillBranchIsNotFollowedWhileTheOriginalArchivesOn) {
    // Timeline 2 (a drill) branched at 0/5000000 and archived to segment 5 at t=60; timeline 1
    // went on to segment 9, archived at t=100.
    auto a = archiveOf(
        {timeline(1, {}, 9, 0, 100), timeline(2, TimelineSwitch{1, 0x5000000}, 5, 50, 60)});
    auto c = chooseTimeline(a, 1, 0x2000100, std::nullopt);
    EXPECT_EQ(c.timeline, 1u);
    EXPECT_EQ(c.latest, 2u);
    ASSERT_EQ(c.reasons.size(), 1u);
    EXPECT_TRUE(has(c.reasons[0], "following timeline 1: timeline 2 branched off it at 0/5000000"))
        << c.reasons[0];
    EXPECT_TRUE(has(c.reasons[0], "--target-timeline=2")) << c.reasons[0];
}

TEST(RepoTimelines, FailoverIsFollowedEvenWhenTheOldPrimaryArchivedPastTheBranch) {
    // The old primary archived two segments the standby never received, then died (t=100); the
    // new timeline archives on (t=200).
    auto a = archiveOf(
        {timeline(1, {}, 9, 0, 100), timeline(2, TimelineSwitch{1, 0x7000000}, 12, 90, 200)});
    auto c = chooseTimeline(a, 1, 0x2000100, std::nullopt);
    EXPECT_EQ(c.timeline, 2u);
    EXPECT_EQ(c.latest, 2u);
    ASSERT_EQ(c.reasons.size(), 1u);
    EXPECT_TRUE(has(c.reasons[0], "following timeline 2: it branched off timeline 1"))
        << c.reasons[0];
}

TEST(RepoTimelines, ATimelineThatEndsWhereItsChildBeganIsLeft) {
    // The usual promotion: timeline 1's archive ends in the branch segment, whatever the times.
    auto a = archiveOf(
        {timeline(1, {}, 7, 0, 300), timeline(2, TimelineSwitch{1, 0x7000028}, 8, 90, 100)});
    auto c = chooseTimeline(a, 1, 0x2000100, std::nullopt);
    EXPECT_EQ(c.timeline, 2u);
    EXPECT_TRUE(c.reasons.empty());
}

TEST(RepoTimelines, DrillThenRealFailoverFollowsTheFailover) {
    // 2: a drill off 1 at segment 5; 1 went on to segment 9 and then failed over to 3 there.
    auto a =
        archiveOf({timeline(1, {}, 9, 0, 100), timeline(2, TimelineSwitch{1, 0x5000000}, 5, 50, 60),
                   timeline(3, TimelineSwitch{1, 0x9000100}, 11, 110, 150)});
    auto c = chooseTimeline(a, 1, 0x2000100, std::nullopt);
    EXPECT_EQ(c.timeline, 3u);
    EXPECT_EQ(c.latest, 3u);
}

TEST(RepoTimelines, TheNewestOfSeveralSideBranchesIsTheLiveOne) {
    // 2: a drill; 3: a failover at a restore point after it (1 archived past both, then died).
    auto a =
        archiveOf({timeline(1, {}, 9, 0, 100), timeline(2, TimelineSwitch{1, 0x5000000}, 5, 50, 60),
                   timeline(3, TimelineSwitch{1, 0x6000100}, 12, 120, 300)});
    EXPECT_EQ(chooseTimeline(a, 1, 0x2000100, std::nullopt).timeline, 3u);
    // The same, but it is timeline 1 that is still archived: the restore stays on it.
    a.timelines.at(1).lastSegmentTime = 400;
    auto c = chooseTimeline(a, 1, 0x2000100, std::nullopt);
    EXPECT_EQ(c.timeline, 1u);
    EXPECT_TRUE(has(c.reasons[0], "later than anything on timeline 3, 2")) << c.reasons[0];
}

TEST(RepoTimelines, BranchesBeforeTheBackupOrAfterAnLsnTargetDoNotMatter) {
    auto a = archiveOf(
        {timeline(1, {}, 9, 0, 100), timeline(2, TimelineSwitch{1, 0x5000000}, 5, 50, 60)});
    // A backup consistent after the branch cannot follow it.
    auto c = chooseTimeline(a, 1, 0x6000000, std::nullopt);
    EXPECT_EQ(c.timeline, 1u);
    EXPECT_TRUE(c.reasons.empty());
    // A target before the branch is reached on timeline 1 whichever is followed.
    c = chooseTimeline(a, 1, 0x2000100, 0x4000000);
    EXPECT_EQ(c.timeline, 1u);
    EXPECT_TRUE(c.reasons.empty());
}

class RepoTimelinesListing : public ::testing::Test {
  protected:
    void file(const std::string& path, const std::string& bytes, int64_t mtime) {
        fs::create_directories(fs::path(dir_ + "/" + path).parent_path());
        test::writeFile(dir_ + "/" + path, bytes);
        struct timeval times[2] = {{mtime, 0}, {mtime, 0}};
        ASSERT_EQ(::utimes((dir_ + "/" + path).c_str(), times), 0);
    }
    backrest::test::TempDir tmp_{"repo-timelines"};
    std::string dir_ = tmp_.path();
};

TEST_F(RepoTimelinesListing, ReadsHistoryFilesAndTheNewestSegmentOfEachTimeline) {
    const std::string root = "archive/main/15-1/";
    const std::string sha(64, 'a');
    file(root + "0000000100000000/000000010000000000000004-" + sha + ".zst", "x", 1000);
    file(root + "0000000100000000/000000010000000000000009-" + sha + ".zst", "x", 3000);
    // Not complete segments of timeline 1: a partial pushed by the promoted copy, a backup history
    // file and a stream in progress.
    file(root + "0000000100000000/000000010000000000000005.partial-" + sha + ".zst", "x", 5000);
    file(root + "0000000100000000/00000001000000000000000A.stream.1.tmp", "x", 5000);
    file(root + "0000000100000000/000000010000000000000002.00000028.backup-" + sha, "x", 5000);
    file(root + "0000000200000000/000000020000000000000005-" + sha + ".zst", "x", 2000);
    file(root + "00000002.history-" + sha, "1\t0/5000000\tno recovery target specified\n", 1900);
    storage::PosixStorage repo(dir_);
    auto a = loadArchiveTimelines(repo, Layout{"main", nullptr}, "15-1");
    a.segmentSize = kSegSize;
    ASSERT_EQ(a.timelines.size(), 2u);
    EXPECT_EQ(a.timelines.at(1).lastSegment, "000000010000000000000009");
    EXPECT_EQ(a.timelines.at(1).lastSegmentTime, 3000);
    EXPECT_FALSE(a.timelines.at(1).branch);
    EXPECT_EQ(a.timelines.at(2).branch->parent, 1u);
    EXPECT_EQ(a.timelines.at(2).branch->switchLsn, 0x5000000u);
    EXPECT_EQ(a.timelines.at(2).historyTime, 1900);
    EXPECT_EQ(a.newestTime(2), 2000);
    auto branches = sideBranches(a);
    ASSERT_EQ(branches.size(), 1u);
    EXPECT_EQ(branches[0].timeline, 2u);
    EXPECT_EQ(branches[0].parentLastSegment, "000000010000000000000009");
    EXPECT_EQ(chooseTimeline(a, 1, 0x2000100, std::nullopt).timeline, 1u);
}

TEST_F(RepoTimelinesListing, NoArchiveYetIsNoTimeline) {
    storage::PosixStorage repo(dir_);
    EXPECT_TRUE(loadArchiveTimelines(repo, Layout{"main", nullptr}, "15-1").timelines.empty());
}

}  // namespace
}  // namespace backrest::repo
