// Delta restore's cleaning and sorting (worker/restore_delta.h prepareDelta): what the backup does
// not have goes, what matches it stays (its mode and time reset), and what differs is patched.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "io/buffer.h"
#include "io/file_checksum.h"
#include "repo/manifest.h"
#include "storage/posix.h"
#include "test/unit/temp_dir.h"
#include "test/unit/test_support.h"
#include "worker/restore_delta.h"

namespace backrest::cmd {
namespace {

namespace fs = std::filesystem;

std::string checksumOf(const std::string& bytes, io::ChecksumType type = io::ChecksumType::Xxh3) {
    io::ChecksumFilter sum(type);
    io::Buffer unused;
    sum.process({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, unused);
    sum.finish(unused);
    return sum.hex();
}

class WorkerRestoreDelta : public ::testing::Test {
  protected:
    WorkerRestoreDelta() : root_("/") {
        data_ = dir_ / "data";
        fs::create_directories(data_ + "/base/1");
        in_.manifest = &manifest_;
        in_.roots = {data_};
        in_.directories = {data_, data_ + "/base", data_ + "/base/1"};
    }

    // A file of the backup with `bytes`, and its local copy with `local` (none when nullopt).
    size_t backupFile(const std::string& name, const std::string& bytes,
                      const std::optional<std::string>& local, int64_t mtime = 1700000000) {
        repo::ManifestFile f;
        f.name = "pg_data/" + name;
        f.size = bytes.size();
        f.checksum = checksumOf(bytes);
        f.mtime = mtime;
        f.mode = 0640;
        manifest_.files.push_back(f);
        in_.fileDestinations.push_back(data_ + "/" + name);
        if (local) test::writeFile(data_ + "/" + name, *local);
        return manifest_.files.size() - 1;
    }

    test::TempDir dir_{"worker-restore-delta"};
    storage::PosixStorage root_;
    std::string data_;
    repo::Manifest manifest_;
    DeltaInput in_;
};

}  // namespace

TEST_F(WorkerRestoreDelta, SortsFilesIntoKeepAndPatch) {
    size_t same = backupFile("PG_VERSION", "15\n", "15\n");
    size_t grown = backupFile("base/1/1259", std::string(8192, 'a'), std::string(16384, 'a'));
    size_t changed = backupFile("base/1/2619", std::string(8192, 'a'), std::string(8192, 'b'));
    size_t absent = backupFile("base/1/2600", "x", std::nullopt);
    DeltaPlan plan = prepareDelta(root_, in_);
    EXPECT_EQ(plan.keep, (std::set<size_t>{same}));
    EXPECT_EQ(plan.patch, (std::set<size_t>{grown, changed}));
    EXPECT_TRUE(plan.blocks.empty());
    EXPECT_FALSE(plan.keep.count(absent) || plan.patch.count(absent));
    // A kept file now has the backup's mode and time, as a restored one would.
    struct stat st {};
    ASSERT_EQ(::stat((data_ + "/PG_VERSION").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0640u);
    EXPECT_EQ(st.st_mtime, 1700000000);
    // Patched files are left as they are for the patch to compare.
    EXPECT_EQ(test::readFile(data_ + "/base/1/2619"), std::string(8192, 'b'));
}

TEST_F(WorkerRestoreDelta, RemovesWhatTheBackupDoesNotHave) {
    backupFile("PG_VERSION", "15\n", "15\n");
    test::writeFile(data_ + "/postmaster.pid", "123");
    fs::create_directories(data_ + "/old/deep");
    test::writeFile(data_ + "/old/deep/file", "x");
    fs::create_directories(data_ + "/base/1/2601");  // a directory where the backup has a file
    backupFile("base/1/2601", "file now", std::nullopt);
    test::writeFile(data_ + "/backup.restore", "marker");  // restore's own marker
    in_.preserve = {data_ + "/backup.restore"};
    ASSERT_EQ(::symlink("/somewhere/else", (data_ + "/pg_wal").c_str()), 0);
    ASSERT_EQ(::symlink("/wal/disk", (data_ + "/pg_wal_kept").c_str()), 0);
    in_.links = {{data_ + "/pg_wal", "/wal/disk"}, {data_ + "/pg_wal_kept", "/wal/disk"}};

    prepareDelta(root_, in_);
    EXPECT_FALSE(fs::exists(data_ + "/postmaster.pid"));
    EXPECT_FALSE(fs::exists(data_ + "/old"));
    EXPECT_FALSE(fs::exists(data_ + "/base/1/2601"));
    EXPECT_TRUE(fs::exists(data_ + "/backup.restore"));
    EXPECT_TRUE(fs::exists(data_ + "/PG_VERSION"));
    // A link to another place goes (restore makes it again); one that matches stays.
    EXPECT_FALSE(fs::is_symlink(data_ + "/pg_wal"));
    EXPECT_TRUE(fs::is_symlink(data_ + "/pg_wal_kept"));
}

// --force trusts size and modification time, and never reads the file.
TEST_F(WorkerRestoreDelta, ForceComparesSizeAndTimeOnly) {
    size_t sameTime = backupFile("base/1/1", "backup", "local!");  // same size, other bytes
    size_t otherTime = backupFile("base/1/2", "backup", "backup", 1600000000);
    struct timespec times[2] = {{1700000000, 0}, {1700000000, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, (data_ + "/base/1/1").c_str(), times, 0), 0);
    ASSERT_EQ(::utimensat(AT_FDCWD, (data_ + "/base/1/2").c_str(), times, 0), 0);
    in_.force = true;
    DeltaPlan plan = prepareDelta(root_, in_);
    EXPECT_EQ(plan.keep, (std::set<size_t>{sameTime}));
    EXPECT_EQ(plan.patch, (std::set<size_t>{otherTime}));
}

// A block-stored file is compared block by block later, whatever its size; with --force only
// when size and time differ.
TEST_F(WorkerRestoreDelta, BlockStoredFilesAreComparedByBlocks) {
    size_t blocks = backupFile("base/1/3", std::string(8192, 'a'), std::string(8192, 'a'));
    manifest_.files[blocks].blockSize = 8192;
    DeltaPlan plan = prepareDelta(root_, in_);
    EXPECT_EQ(plan.blocks, (std::set<size_t>{blocks}));
    EXPECT_TRUE(plan.keep.empty());

    in_.force = true;
    EXPECT_EQ(prepareDelta(root_, in_).blocks, (std::set<size_t>{blocks}));  // other mtime
    struct timespec times[2] = {{1700000000, 0}, {1700000000, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, (data_ + "/base/1/3").c_str(), times, 0), 0);
    EXPECT_EQ(prepareDelta(root_, in_).keep, (std::set<size_t>{blocks}));
}

TEST_F(WorkerRestoreDelta, Sha256ChecksumsAreComparedToo) {
    size_t f = backupFile("global/pg_filenode.map", "map", std::nullopt);
    fs::create_directories(data_ + "/global");
    test::writeFile(data_ + "/global/pg_filenode.map", "map");
    in_.directories.insert(data_ + "/global");
    manifest_.files[f].checksum = checksumOf("map", io::ChecksumType::Sha256);
    EXPECT_EQ(prepareDelta(root_, in_).keep, (std::set<size_t>{f}));
}

TEST_F(WorkerRestoreDelta, ResetModeAndTimeNamesTheFile) {
    repo::ManifestFile f;
    f.mode = 0600;
    f.mtime = 1700000000;
    Error e = test::errorOf([&] { resetModeAndTime(data_ + "/absent", f); });
    EXPECT_EQ(e.code(), ErrorCode::FileWrite);
    EXPECT_TRUE(test::has(e.what(), "unable to set mode of '" + data_ + "/absent'")) << e.what();
}

}  // namespace backrest::cmd
