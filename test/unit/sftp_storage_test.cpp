// The SFTP driver against OpenSSH's sshd (scripts/test-servers/sshd.sh; skipped without
// TEST_BACKREST_SFTP_ENV): the common operations' contract, atomic replacement, ranged reads,
// several threads on one session, and the errors a user meets.
#include "storage/sftp/sftp_storage.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "storage_drivers.h"
#include "test_support.h"

namespace backrest::test {
storage::sftp::SftpSettings sftpTestSettings(const std::string& envFile);
}

namespace backrest::storage {
namespace {

using backrest::test::errorOf;
using backrest::test::has;

class SftpStorageTest : public ::testing::Test {
  protected:
    void SetUp() override {
        auto made = backrest::test::makeSftpTestStorage(
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
        if (!made.storage) GTEST_SKIP() << made.skipReason;
        storage_ = std::move(made.storage);
    }
    void TearDown() override {
        if (storage_) storage_->removePath("", true);
    }
    std::unique_ptr<Storage> storage_;
};

std::string pattern(size_t n) {
    std::string s(n, '\0');
    for (size_t i = 0; i < n; i++) s[i] = static_cast<char>((i * 7919) >> 3);
    return s;
}

TEST_F(SftpStorageTest, WritesReadsAndReplacesAtomically) {
    std::string big = pattern(5 << 20);
    writeAll(*storage_, "a/b/file", big);
    EXPECT_EQ(readAll(*storage_, "a/b/file"), big);
    writeAll(*storage_, "a/b/file", "second");  // posix-rename over the existing file
    EXPECT_EQ(readAll(*storage_, "a/b/file"), "second");
    auto names = storage_->list("a/b", false);
    ASSERT_EQ(names.size(), 1u);
    EXPECT_EQ(names[0].name, "file");
    EXPECT_EQ(names[0].type, FileType::File);
    EXPECT_EQ(names[0].size, 6u);
    EXPECT_EQ(storage_->list("a", false)[0].type, FileType::Path);
}

TEST_F(SftpStorageTest, WriterDestroyedWithoutCloseLeavesNothing) {
    {
        auto w = storage_->openWrite("partial", {});
        std::string bytes = pattern(100000);
        w->write(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
    }
    EXPECT_FALSE(storage_->info("partial").has_value());
    EXPECT_TRUE(storage_->list("", false).empty());
}

TEST_F(SftpStorageTest, RangedRead) {
    std::string bytes = pattern(1 << 20);
    writeAll(*storage_, "r", bytes);
    auto reader = storage_->openRead("r", false, ReadRange{300000, 70000});
    std::string got;
    std::vector<uint8_t> buf(65536);
    while (size_t n = reader->read(buf)) got.append(reinterpret_cast<char*>(buf.data()), n);
    EXPECT_EQ(got, bytes.substr(300000, 70000));
}

TEST_F(SftpStorageTest, MissingAndRemove) {
    EXPECT_EQ(storage_->openRead("none", true), nullptr);
    Error e = errorOf([&] { storage_->openRead("none", false); });
    EXPECT_EQ(e.code(), ErrorCode::FileMissing);
    EXPECT_TRUE(has(e.what(), "sftp://backrest-sftp@127.0.0.1:")) << e.what();
    EXPECT_FALSE(storage_->info("none").has_value());
    EXPECT_TRUE(storage_->list("none", true).empty());
    EXPECT_EQ(errorOf([&] { storage_->list("none", false); }).code(), ErrorCode::FileMissing);
    storage_->remove("none", false);
    EXPECT_EQ(errorOf([&] { storage_->remove("none", true); }).code(), ErrorCode::FileMissing);
    writeAll(*storage_, "d/e/f", "x");
    writeAll(*storage_, "d/g", "y");
    storage_->removePath("d", true);
    EXPECT_FALSE(storage_->info("d").has_value());
    storage_->removePath("d", true);  // missing: no error
}

TEST_F(SftpStorageTest, MoveReplaces) {
    writeAll(*storage_, "from", "new");
    writeAll(*storage_, "to", "old");
    storage_->move("from", "to");
    EXPECT_EQ(readAll(*storage_, "to"), "new");
    EXPECT_FALSE(storage_->info("from").has_value());
}

// One session, several threads (a backup's process-max): each file intact.
TEST_F(SftpStorageTest, SeveralThreadsShareTheSession) {
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; t++)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 5; i++)
                writeAll(*storage_, "t" + std::to_string(t) + "/" + std::to_string(i),
                         pattern(200000 + t * 1000 + i));
        });
    for (auto& t : threads) t.join();
    for (int t = 0; t < 4; t++)
        for (int i = 0; i < 5; i++)
            EXPECT_EQ(readAll(*storage_, "t" + std::to_string(t) + "/" + std::to_string(i)),
                      pattern(200000 + t * 1000 + i));
}

TEST_F(SftpStorageTest, WrongKeyIsRepoAuthError) {
    auto settings = backrest::test::sftpTestSettings(std::getenv("TEST_BACKREST_SFTP_ENV"));
    settings.privateKeyFile = "/dev/null";
    Error e = errorOf([&] { sftp::SftpStorage{settings}; });
    EXPECT_EQ(e.code(), ErrorCode::RepoAuth);
    EXPECT_TRUE(has(e.what(), "user 'backrest-sftp'")) << e.what();
}

TEST_F(SftpStorageTest, NoServerIsNetworkError) {
    auto settings = backrest::test::sftpTestSettings(std::getenv("TEST_BACKREST_SFTP_ENV"));
    settings.port = 1;
    Error e = errorOf([&] { sftp::SftpStorage{settings}; });
    EXPECT_EQ(e.code(), ErrorCode::Network);
    EXPECT_TRUE(has(e.what(), "127.0.0.1:1: cannot connect")) << e.what();
}

// The processes under sshd's listener (its sessions: monitor, session, internal-sftp).
std::vector<pid_t> sessionProcesses(pid_t listener) {
    std::map<pid_t, pid_t> parent;
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
        std::string name = entry.path().filename();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::ifstream stat(entry.path() / "stat");
        std::string line;
        std::getline(stat, line);
        size_t close = line.rfind(')');
        if (close == std::string::npos) continue;
        char state = 0;
        int ppid = 0;
        if (std::sscanf(line.c_str() + close + 1, " %c %d", &state, &ppid) == 2)
            parent[std::stoi(name)] = ppid;
    }
    std::vector<pid_t> found;
    for (const auto& [pid, ppid] : parent)
        for (pid_t p = ppid; p > 1; p = parent.count(p) ? parent[p] : 0)
            if (p == listener) {
                found.push_back(pid);
                break;
            }
    return found;
}

// The server drops the connection (its session processes killed; the listener stays): the next
// idempotent request reconnects and succeeds, a file being written fails with NetworkError.
TEST_F(SftpStorageTest, DroppedConnectionReconnectsOnce) {
    std::string envFile = std::getenv("TEST_BACKREST_SFTP_ENV");
    std::ifstream pidFile(std::filesystem::path(envFile).parent_path() / "sshd.pid");
    pid_t listener = 0;
    if (!(pidFile >> listener) || ::geteuid() != 0)
        GTEST_SKIP() << "needs root and sshd.sh's pid file";
    writeAll(*storage_, "kept", "bytes");
    auto writer = storage_->openWrite("interrupted", {});
    auto sessions = sessionProcesses(listener);
    ASSERT_FALSE(sessions.empty());
    for (pid_t p : sessions) ::kill(p, SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    std::string bytes = pattern(4 << 20);
    Error e = errorOf([&] {
        writer->write(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
        writer->close();
    });
    EXPECT_EQ(e.code(), ErrorCode::Network);
    EXPECT_TRUE(has(e.what(), "SFTP server 127.0.0.1:")) << e.what();
    EXPECT_TRUE(has(e.what(), "connection lost")) << e.what();
    writer.reset();
    EXPECT_EQ(storage_->info("kept")->size, 5u);  // reconnected
    EXPECT_FALSE(storage_->info("interrupted").has_value());
    EXPECT_EQ(readAll(*storage_, "kept"), "bytes");
}

}  // namespace
}  // namespace backrest::storage
