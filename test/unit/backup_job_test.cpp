// A whole backup without a server (src/command/backup/backup_job.h): begin, copy and finish
// against a synthetic data directory, as the CLI and the daemon drive them after pg_backup_start
// and pg_backup_stop.
#include "command/backup/backup_job.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>

#include "storage/posix.h"
#include "test/unit/test_support.h"

namespace backrest::backup {
namespace {

namespace fs = std::filesystem;
using test::errorOf;
using test::has;

constexpr uint64_t kSysId = 7310000000000000001ULL;

class BackupJobTest : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string tmpl = fs::temp_directory_path().string() + "/backup-job-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
        root_ = tmpl;
        for (const char* d : {"data/base/1", "data/global", "data/pg_wal", "repo", "lock"})
            fs::create_directories(root_ + "/" + d);
        std::string control(8192, '\x5A');
        uint32_t controlVersion = 1300, catalog = 202209061;
        std::memcpy(control.data(), &kSysId, 8);
        std::memcpy(control.data() + 8, &controlVersion, 4);
        std::memcpy(control.data() + 12, &catalog, 4);
        put("PG_VERSION", "15\n");
        put("global/pg_control", control);
        put("base/1/16384", std::string(3 * 8192, 'r'));
        put("postgresql.conf", "shared_buffers = 128MB\n");
        repo_ = std::make_unique<storage::PosixStorage>(root_ + "/repo");
        repo::DbIdentity db{1, "15", kSysId};
        repo::saveBackupInfo(*repo_, layout_, repo::BackupInfo{{db}, {}});
        repo::saveArchiveInfo(*repo_, layout_, repo::ArchiveInfo{{db}});
    }
    void TearDown() override { fs::remove_all(root_); }

    // A data file, last written an hour ago (before any backup of the test starts).
    void put(const std::string& rel, const std::string& content) {
        std::string path = root_ + "/data/" + rel;
        test::writeFile(path, content);
        fs::last_write_time(path, fs::file_time_type::clock::now() - std::chrono::hours(1));
    }

    BackupSettings settings() {
        BackupSettings s;
        s.repo = repo_.get();
        s.layout = layout_;
        s.processMax = 2;
        s.lockPath = root_ + "/lock";
        s.pgPath = root_ + "/data";
        s.pgData = std::make_shared<storage::PosixStorage>(s.pgPath);
        s.archiveCheck = false;  // no archiver here: waitForArchive has tests of its own
        return s;
    }
    static BackupStart start() {
        BackupStart s;
        s.lsn = "0/2000028";
        s.walFile = "000000010000000000000002";
        s.timestamp = static_cast<int64_t>(std::time(nullptr));
        s.walSegmentSize = 16 * 1024 * 1024;
        return s;
    }
    static BackupStop stop() {
        return {"0/2000100", "000000010000000000000002", "START WAL LOCATION: 0/2000028\n", ""};
    }
    // Runs a whole backup of `type`; returns the committed manifest.
    repo::Manifest backup(const std::string& type, BackupProgress* last = nullptr) {
        BackupJob job(settings());
        job.begin(type);
        job.copy(start(), [&](const BackupProgress& p) {
            if (last) *last = p;
        });
        return job.finish(stop());
    }
    const repo::ManifestFile* find(const repo::Manifest& m, const std::string& name) {
        for (const auto& f : m.files)
            if (f.name == name) return &f;
        return nullptr;
    }

    std::string root_;
    repo::Layout layout_{"main", nullptr};
    std::unique_ptr<storage::PosixStorage> repo_;
};

TEST_F(BackupJobTest, AFullBackupIsCommittedWithItsManifestAndInfo) {
    BackupProgress last;
    auto m = backup("full", &last);

    EXPECT_EQ(m.type, "full");
    EXPECT_EQ(m.systemId, kSysId);
    EXPECT_EQ(m.walStart, "000000010000000000000002");
    EXPECT_EQ(m.walStop, "000000010000000000000002");
    const auto* relation = find(m, "pg_data/base/1/16384");
    ASSERT_NE(relation, nullptr);
    EXPECT_EQ(relation->size, 3u * 8192);
    EXPECT_FALSE(relation->checksum.empty());
    EXPECT_NE(relation->bundleId, 0u) << "a small file goes into a bundle";
    EXPECT_TRUE(fs::exists(root_ + "/repo/" + layout_.bundleFile(m.label, relation->bundleId)));
    const auto* label = find(m, "pg_data/backup_label");
    ASSERT_NE(label, nullptr);
    EXPECT_EQ(label->size, stop().labelFile.size());
    EXPECT_EQ(last.filesDone, last.filesTotal);
    EXPECT_EQ(last.bytesDone, last.bytesTotal);

    auto stored = repo::loadManifest(*repo_, layout_.manifest(m.label), nullptr);
    EXPECT_EQ(stored.files.size(), m.files.size());
    auto info = repo::requireBackupInfo(*repo_, layout_);
    ASSERT_EQ(info.backups.size(), 1u);
    EXPECT_EQ(info.backups[0].label, m.label);
}

TEST_F(BackupJobTest, AnIncrementalBackupReferencesUnchangedFiles) {
    auto full = backup("full");
    test::writeFile(root_ + "/data/postgresql.conf", "shared_buffers = 256MB\n");  // now
    auto incr = backup("incr");

    EXPECT_EQ(incr.type, "incr");
    EXPECT_EQ(incr.prior, full.label);
    EXPECT_GT(repo::labelTime(incr.label), repo::labelTime(full.label));
    EXPECT_EQ(find(incr, "pg_data/base/1/16384")->reference, full.label);
    EXPECT_EQ(find(incr, "pg_data/base/1/16384")->checksum,
              find(full, "pg_data/base/1/16384")->checksum);
    EXPECT_EQ(find(incr, "pg_data/postgresql.conf")->reference, "");
    EXPECT_EQ(find(incr, "pg_data/backup_label")->reference, "");
    EXPECT_EQ(repo::requireBackupInfo(*repo_, layout_).backups.size(), 2u);
}

TEST_F(BackupJobTest, ADiffWithoutAFullBackupBecomesFull) {
    EXPECT_EQ(backup("diff").type, "full");
}

TEST_F(BackupJobTest, ACancelledBackupLeavesNoManifest) {
    BackupJob job(settings());
    std::string label = job.begin("full");
    job.copy(start(), [](const BackupProgress&) {});
    job.cancel();
    auto e = errorOf([&] { job.finish(stop()); });
    EXPECT_EQ(e.code(), ErrorCode::Cancelled);
    EXPECT_TRUE(has(e.what(), "backup " + label + " was cancelled")) << e.what();
    EXPECT_FALSE(fs::exists(root_ + "/repo/" + layout_.manifest(label)));
    EXPECT_TRUE(repo::requireBackupInfo(*repo_, layout_).backups.empty());
}

TEST_F(BackupJobTest, AWrongTypeOrACopyBeforeBeginIsRefused) {
    BackupJob job(settings());
    auto e = errorOf([&] { job.begin("partial"); });
    EXPECT_EQ(e.code(), ErrorCode::Option);
    EXPECT_TRUE(has(e.what(), "invalid backup type 'partial'")) << e.what();
    auto before = errorOf([&] { job.copy(start(), [](const BackupProgress&) {}); });
    EXPECT_EQ(before.code(), ErrorCode::Assert);
}

TEST_F(BackupJobTest, ABadStartWalNameIsAFormatError) {
    BackupJob job(settings());
    job.begin("full");
    BackupStart bad = start();
    bad.walFile = "not-a-segment";
    auto e = errorOf([&] { job.copy(bad, [](const BackupProgress&) {}); });
    EXPECT_EQ(e.code(), ErrorCode::Format);
    EXPECT_TRUE(has(e.what(), "'not-a-segment' is not a WAL segment name")) << e.what();
}

}  // namespace
}  // namespace backrest::backup
