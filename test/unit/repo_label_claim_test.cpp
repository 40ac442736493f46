// A backup's claim on its label (repo/label_claim.h): two backups that chose one label never both
// go on, and an interrupted backup's directory is left alone while its claim may still be live.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "common/error.h"
#include "repo/label_claim.h"
#include "storage/posix.h"
#include "test/unit/temp_dir.h"
#include "test/unit/test_support.h"

using namespace backrest;
using namespace backrest::repo;
using backrest::test::errorOf;
using backrest::test::has;

namespace {

constexpr const char* kLabel = "20261121-235959F";

std::string thisHost() {
    char host[256] = {};
    gethostname(host, sizeof(host) - 1);
    return host[0] ? host : "unknown-host";
}

class RepoLabelClaim : public ::testing::Test {
  protected:
    RepoLabelClaim() : repo_(dir_.path()) { layout_.stanza = "main"; }

    std::string claimDir() const { return layout_.backupDir(kLabel); }
    // A claim as another backup writes it: "<host> <pid>".
    void writeClaim(const std::string& name, const std::string& content) {
        storage::writeAll(repo_, claimDir() + "/backup.claim." + name, content);
    }
    size_t claims() {
        size_t n = 0;
        for (const auto& entry : repo_.list(claimDir(), true))
            if (entry.name.starts_with("backup.claim.")) n++;
        return n;
    }

    test::TempDir dir_{"repo-label-claim"};
    storage::PosixStorage repo_;
    Layout layout_;
};

}  // namespace

TEST_F(RepoLabelClaim, AloneClaimGoesOnAndIsReleased) {
    LabelClaim claim(repo_, layout_, kLabel);
    EXPECT_TRUE(claim.alone());
    EXPECT_EQ(claim.other(), "");
    ASSERT_EQ(claims(), 1u);
    // What it wrote names this host and process, for runningClaim on another backup.
    for (const auto& entry : repo_.list(claimDir(), true))
        EXPECT_EQ(storage::readAll(repo_, claimDir() + "/" + entry.name),
                  thisHost() + " " + std::to_string(getpid()) + "\n");
    claim.release();
    EXPECT_EQ(claims(), 0u);
}

TEST_F(RepoLabelClaim, SecondClaimWithdrawsAndNamesTheOther) {
    writeClaim("otherhost-4242-0000000100000002", "otherhost 4242\n");
    LabelClaim claim(repo_, layout_, kLabel);
    EXPECT_FALSE(claim.alone());
    EXPECT_EQ(claim.other(), "backup.claim.otherhost-4242-0000000100000002");
    EXPECT_EQ(claims(), 1u);  // its own claim removed again, the other's left

    Error e = errorOf([&] { claim.raiseTaken(layout_, kLabel); });
    EXPECT_EQ(e.code(), ErrorCode::Lock);
    EXPECT_TRUE(has(e.what(), std::string("backup ") + kLabel + ":")) << e.what();
    EXPECT_TRUE(has(e.what(), "stanza 'main'")) << e.what();
    EXPECT_TRUE(has(e.what(), repo_.fullPath(claimDir()))) << e.what();
    EXPECT_TRUE(has(e.what(), "(its claim is 'otherhost-4242-0000000100000002')")) << e.what();
}

TEST_F(RepoLabelClaim, NoClaimIsNotRunning) {
    EXPECT_EQ(runningClaim(repo_, layout_, kLabel), std::nullopt);  // no directory at all
    storage::writeAll(repo_, claimDir() + "/backup.manifest.copy", "{}");
    EXPECT_EQ(runningClaim(repo_, layout_, kLabel), std::nullopt);  // files, no claim
}

// Another host's processes cannot be seen from here: its claim always counts as running.
TEST_F(RepoLabelClaim, AnotherHostsClaimIsRunning) {
    writeClaim("elsewhere-17-00", "elsewhere 17\n");
    EXPECT_EQ(runningClaim(repo_, layout_, kLabel), "host elsewhere process 17");
}

TEST_F(RepoLabelClaim, ThisHostsLiveProcessIsRunning) {
    pid_t parent = getppid();  // alive while the tests run
    writeClaim(thisHost() + "-live", thisHost() + " " + std::to_string(parent) + "\n");
    EXPECT_EQ(runningClaim(repo_, layout_, kLabel),
              "host " + thisHost() + " process " + std::to_string(parent));
}

// A backup killed on this host, or one this very process ran and that failed: the directory may
// be resumed or removed.
TEST_F(RepoLabelClaim, DeadOrOwnProcessIsNotRunning) {
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) _exit(0);
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);  // reaped: the pid names no process now
    writeClaim(thisHost() + "-dead", thisHost() + " " + std::to_string(child) + "\n");
    writeClaim(thisHost() + "-self", thisHost() + " " + std::to_string(getpid()) + "\n");
    EXPECT_EQ(runningClaim(repo_, layout_, kLabel), std::nullopt);
}

// A claim whose content is unreadable as "<host> <pid>" cannot be proven dead: it counts.
TEST_F(RepoLabelClaim, UnreadableClaimOfThisHostIsRunning) {
    writeClaim(thisHost() + "-garbled", thisHost() + " not-a-pid\n");
    EXPECT_EQ(runningClaim(repo_, layout_, kLabel), "host " + thisHost() + " process 0");
}
