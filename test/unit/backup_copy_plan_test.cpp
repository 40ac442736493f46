// The backup's copy plan (src/command/backup/copy_plan.h): which files reference the prior
// backup, the order of the others, and which go into bundles.
#include <gtest/gtest.h>

#include "command/backup/copy_plan.h"
#include "repo/block_map.h"

namespace backrest::backup {
namespace {

constexpr int64_t kPriorStart = 1'700'000'000;
const std::string kPriorLabel = "20231114-221320F";

repo::ManifestFile file(const std::string& name, uint64_t size, int64_t mtime) {
    repo::ManifestFile f;
    f.name = "pg_data/" + name;
    f.size = size;
    f.mtime = mtime;
    return f;
}

// The prior backup: "old" and "again" unchanged since long before it started, "late" written
// in the second it started, "held" referenced by it from an earlier backup.
PriorBackup priorBackup() {
    repo::Manifest m;
    m.label = kPriorLabel;
    m.timestampStart = kPriorStart;
    auto old = file("old", 1000, kPriorStart - 100);
    old.checksum = "c-old";
    old.repoSize = 400;
    old.bundleId = 3;
    old.bundleOffset = 77;
    old.pageChecked = true;
    old.pageErrors = {5};
    old.referencedBlockBytes = 1234;
    auto late = file("late", 1000, kPriorStart);
    auto held = file("held", 2000, kPriorStart - 100);
    held.reference = "20231113-221320F";
    held.checksum = "c-held";
    m.files = {old, late, held, file("again", 10, kPriorStart - 5)};
    return PriorBackup(std::move(m));
}

std::vector<std::string> names(const repo::Manifest& m, const std::vector<size_t>& indices) {
    std::vector<std::string> out;
    for (size_t i : indices) out.push_back(m.files[i].name);
    return out;
}

TEST(BackupCopyPlan, UnchangedFilesReferenceWhereThePriorBackupHoldsThem) {
    auto prior = priorBackup();
    repo::Manifest m;
    m.files = {file("old", 1000, kPriorStart - 100), file("late", 1000, kPriorStart),
               file("held", 2000, kPriorStart - 100), file("again", 11, kPriorStart - 5),
               file("new", 5, kPriorStart + 1)};
    auto plan = planCopy(m, &prior, {});

    EXPECT_EQ(m.files[0].reference, kPriorLabel);
    EXPECT_EQ(m.files[0].checksum, "c-old");
    EXPECT_EQ(m.files[0].repoSize, 400u);
    EXPECT_EQ(m.files[0].bundleId, 3u);
    EXPECT_EQ(m.files[0].bundleOffset, 77u);
    EXPECT_TRUE(m.files[0].pageChecked);
    EXPECT_EQ(m.files[0].pageErrors, std::vector<uint32_t>{5});
    // What a restore reads of earlier blocks goes with it (info's repository.size).
    EXPECT_EQ(m.files[0].referencedBlockBytes, 1234u);
    // The backup holding the bytes, not the prior backup that referenced them.
    EXPECT_EQ(m.files[2].reference, "20231113-221320F");
    EXPECT_EQ(m.files[2].checksum, "c-held");
    // Written in the second the prior backup started, resized, or new: copied.
    for (size_t i : {1, 3, 4}) EXPECT_EQ(m.files[i].reference, "") << m.files[i].name;
    EXPECT_EQ(plan.referencedBytes, 3000u);
    EXPECT_EQ(plan.filesToCopy, 3u);
}

TEST(BackupCopyPlan, ReusableNeedsSizeMtimeAndAnOlderMtime) {
    auto prior = priorBackup();
    EXPECT_TRUE(reusable(prior, file("old", 1000, kPriorStart - 100)));
    EXPECT_FALSE(reusable(prior, file("old", 1001, kPriorStart - 100)));
    EXPECT_FALSE(reusable(prior, file("old", 1000, kPriorStart - 99)));
    EXPECT_FALSE(reusable(prior, file("late", 1000, kPriorStart)));
    EXPECT_FALSE(reusable(prior, file("missing", 1, 1)));
}

TEST(BackupCopyPlan, WithoutPriorEveryFileIsCopiedLargestFirstSmallOnesInBundles) {
    repo::Manifest m;
    m.files = {file("a", 10, 1), file("b", 5 << 20, 1), file("c", 30, 1), file("d", 3 << 20, 1),
               file("e", 20, 1)};
    CopyPlanSettings settings;
    settings.bundle.limit = 100;
    settings.bundle.size = 40;
    auto plan = planCopy(m, nullptr, settings);

    EXPECT_EQ(names(m, plan.alone), (std::vector<std::string>{"pg_data/b", "pg_data/d"}));
    ASSERT_EQ(plan.bundles.size(), 2u);
    EXPECT_EQ(names(m, plan.bundles[0]), (std::vector<std::string>{"pg_data/c"}));
    EXPECT_EQ(names(m, plan.bundles[1]), (std::vector<std::string>{"pg_data/e", "pg_data/a"}));
    EXPECT_EQ(plan.filesToCopy, 5u);
    EXPECT_EQ(plan.referencedBytes, 0u);
}

TEST(BackupCopyPlan, BundlesOffOrBlockStoredFilesAreStoredAlone) {
    repo::Manifest m;
    uint64_t blockSized = repo::kBlockMinFileSize;
    ASSERT_NE(repo::blockSizeFor(blockSized), 0u);
    m.files = {file("small", 10, 1), file("blocks", blockSized, 1)};
    CopyPlanSettings settings;
    settings.bundle.limit = 2 * blockSized;

    auto bundled = planCopy(m, nullptr, settings);
    EXPECT_TRUE(bundled.alone.empty());
    settings.block = true;
    auto block = planCopy(m, nullptr, settings);
    EXPECT_EQ(names(m, block.alone), (std::vector<std::string>{"pg_data/blocks"}));
    ASSERT_EQ(block.bundles.size(), 1u);
    EXPECT_EQ(names(m, block.bundles[0]), (std::vector<std::string>{"pg_data/small"}));
    settings.bundle.enabled = false;
    auto alone = planCopy(m, nullptr, settings);
    EXPECT_EQ(names(m, alone.alone), (std::vector<std::string>{"pg_data/blocks", "pg_data/small"}));
    EXPECT_TRUE(alone.bundles.empty());
}

// Files of one size go by name, whatever their order in the manifest: two backups of one data
// directory (backup --repo=all, each reading its files from one shared read) start them in one
// order.
TEST(BackupCopyPlan, FilesOfOneSizeGoByName) {
    repo::Manifest m1, m2;
    m1.files = {file("c", 4 << 20, 1), file("a", 4 << 20, 1), file("big", 9 << 20, 1),
                file("b", 4 << 20, 1)};
    m2.files = {file("b", 4 << 20, 1), file("big", 9 << 20, 1), file("a", 4 << 20, 1),
                file("c", 4 << 20, 1)};
    CopyPlanSettings settings;
    auto order = std::vector<std::string>{"pg_data/big", "pg_data/a", "pg_data/b", "pg_data/c"};
    EXPECT_EQ(names(m1, planCopy(m1, nullptr, settings).alone), order);
    EXPECT_EQ(names(m2, planCopy(m2, nullptr, settings).alone), order);
}

}  // namespace
}  // namespace backrest::backup
