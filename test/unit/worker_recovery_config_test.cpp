// The recovery settings a restore writes (worker/recovery_config): which --type/--target pairs
// are refused and how, what lands in postgresql.auto.conf, and which signal file is created.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/config.h"
#include "common/error.h"
#include "common/log.h"
#include "storage/posix.h"
#include "test/unit/temp_dir.h"
#include "test/unit/test_support.h"
#include "worker/recovery_config.h"

namespace backrest::cmd {
namespace {

using test::errorOf;
using test::has;

// A restore's command line; the environment is empty so the real one never leaks in, and the
// config file is one that does not exist under its default name (not an error).
Config restoreConfig(std::vector<std::string> args) {
    std::vector<std::string> all{"--stanza=main", "--pg1-path=/tmp/none", "restore"};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<const char*> argv{"backrest"};
    for (const auto& a : all) argv.push_back(a.c_str());
    const char* const envp[] = {nullptr};
    return Config::parse(static_cast<int>(argv.size()), argv.data(), envp);
}

std::string setting(const RecoverySettings& r, const std::string& name) {
    for (const auto& [k, v] : r.settings)
        if (k == name) return v;
    return "<absent>";
}

TEST(WorkerRecoveryConfig, DefaultRecoversToTheEndOfTheArchive) {
    RecoverySettings r = recoverySettings(restoreConfig({}));
    EXPECT_EQ(r.type, "default");
    EXPECT_EQ(r.signalFile, "recovery.signal");
    std::string command = setting(r, "restore_command");
    EXPECT_TRUE(has(command, " --stanza=main archive-get %f \"%p\"")) << command;
    EXPECT_EQ(setting(r, "recovery_target"), "<absent>");
    EXPECT_EQ(setting(r, "recovery_target_action"), "<absent>");
}

TEST(WorkerRecoveryConfig, TargetTypesWriteTheirTarget) {
    RecoverySettings lsn =
        recoverySettings(restoreConfig({"--type=lsn", "--target=0/5000028", "--target-exclusive"}));
    EXPECT_EQ(setting(lsn, "recovery_target_lsn"), "0/5000028");
    EXPECT_EQ(lsn.targetLsn, uint64_t{0x5000028});
    EXPECT_EQ(setting(lsn, "recovery_target_inclusive"), "false");
    EXPECT_EQ(setting(lsn, "recovery_target_action"), "pause");

    RecoverySettings immediate =
        recoverySettings(restoreConfig({"--type=immediate", "--target-action=promote"}));
    EXPECT_EQ(setting(immediate, "recovery_target"), "immediate");
    EXPECT_EQ(setting(immediate, "recovery_target_action"), "promote");

    RecoverySettings name =
        recoverySettings(restoreConfig({"--type=name", "--target=before-drop"}));
    EXPECT_EQ(setting(name, "recovery_target_name"), "before-drop");
    // Exclusive means nothing for a restore point: never written for --type=name.
    EXPECT_EQ(setting(name, "recovery_target_inclusive"), "<absent>");

    RecoverySettings standby = recoverySettings(restoreConfig({"--type=standby"}));
    EXPECT_EQ(standby.signalFile, "standby.signal");
}

TEST(WorkerRecoveryConfig, RefusedCombinationsNameTheOption) {
    Error unknown = errorOf([] { recoverySettings(restoreConfig({"--type=soon"})); });
    EXPECT_EQ(unknown.code(), ErrorCode::Option);
    EXPECT_TRUE(has(unknown.what(), "'soon' for option 'type'")) << unknown.what();

    Error missing = errorOf([] { recoverySettings(restoreConfig({"--type=xid"})); });
    EXPECT_TRUE(has(missing.what(), "option 'target' is required for restore --type=xid"))
        << missing.what();

    Error stray = errorOf([] {
        recoverySettings(restoreConfig({"--type=immediate", "--target=5"}));
    });
    EXPECT_TRUE(has(stray.what(), "only valid with --type=time, xid, lsn or name")) << stray.what();

    Error option =
        errorOf([] { recoverySettings(restoreConfig({"--recovery-option=no-equals-sign"})); });
    EXPECT_TRUE(has(option.what(), "'no-equals-sign' for option 'recovery-option'"))
        << option.what();

    Error preserve = errorOf([] {
        recoverySettings(restoreConfig({"--type=preserve", "--archive-mode=off"}));
    });
    EXPECT_TRUE(has(preserve.what(), "'archive-mode=off' cannot be used with --type=preserve"))
        << preserve.what();
}

TEST(WorkerRecoveryConfig, RecoveryOptionsAndArchiveModeOffAreWritten) {
    RecoverySettings r = recoverySettings(restoreConfig(
        {"--archive-mode=off", "--recovery-option=primary_conninfo=host=a user='b'"}));
    EXPECT_EQ(setting(r, "archive_mode"), "off");
    EXPECT_EQ(setting(r, "primary_conninfo"), "host=a user='b'");
    EXPECT_TRUE(has(r.describe(), "primary_conninfo='host=a user='b''")) << r.describe();
    EXPECT_FALSE(has(r.describe(), "restore_command"));
}

TEST(WorkerRecoveryConfig, EarlierSettingsCommentedOutNewOnesQuoted) {
    test::TempDir dir("worker-recovery-config");
    test::writeFile(dir / "postgresql.auto.conf",
                    "work_mem = '8MB'\n"
                    "restore_command = 'cp /old/%f %p'\n"
                    "  recovery_target_time = '2026-01-01'\n");
    storage::PosixStorage data(dir.path());
    RecoverySettings r;
    r.type = "name";
    r.settings = {{"restore_command", "x"}, {"recovery_target_name", "it's"}};
    r.signalFile = "recovery.signal";

    auto written = writeRecoveryConfig(data, r);
    EXPECT_EQ(written, (std::vector<std::string>{"postgresql.auto.conf", "recovery.signal"}));
    EXPECT_EQ(test::readFile(dir / "postgresql.auto.conf"),
              "work_mem = '8MB'\n"
              "# Removed by backrest restore: restore_command = 'cp /old/%f %p'\n"
              "# Removed by backrest restore:   recovery_target_time = '2026-01-01'\n"
              "\n# Recovery settings written by backrest restore\n"
              "restore_command = 'x'\n"
              "recovery_target_name = 'it''s'\n");
    EXPECT_EQ(test::readFile(dir / "recovery.signal"), "");
}

// A passphrase of any repository in the restore's environment only: the restored server's
// restore_command would not see it, and recovery would stop at the first segment it looks for
// there. Named by its own repository, also from repo1's view (restore from repo1).
TEST(WorkerRecoveryConfig, AnyRepositorysPassphraseFromTheEnvironmentIsWarnedOf) {
    std::vector<const char*> argv{"backrest",         "--stanza=main",    "--pg1-path=/tmp/none",
                                  "--repo1-path=/r1", "--repo2-path=/r2", "restore"};
    const char* const envp[] = {"PGBACKREST_REPO2_CIPHER_PASS=secret",
                                "PGBACKREST_REPO2_CIPHER_TYPE=aes-256-gcm", nullptr};
    Config config = Config::parse(static_cast<int>(argv.size()), argv.data(), envp);
    LogLevel saved = logLevel();
    setLogLevel(LogLevel::Warn);
    ::testing::internal::CaptureStderr();
    RecoverySettings r = recoverySettings(config.forRepo(1));
    std::string err = ::testing::internal::GetCapturedStderr();
    setLogLevel(saved);
    EXPECT_NE(err.find("repo2-cipher-pass comes from this command's environment "
                       "(BACKREST_REPO2_CIPHER_PASS or PGBACKREST_REPO2_CIPHER_PASS)"),
              std::string::npos)
        << err;
    EXPECT_NE(err.find("looks for in repo2"), std::string::npos) << err;
    EXPECT_EQ(err.find("repo1-cipher"), std::string::npos) << err;
    EXPECT_EQ(setting(r, "restore_command").find("secret"), std::string::npos);
}

TEST(WorkerRecoveryConfig, PreserveWritesNothing) {
    test::TempDir dir("worker-recovery-config");
    test::writeFile(dir / "postgresql.auto.conf", "restore_command = 'keep'\n");
    storage::PosixStorage data(dir.path());
    RecoverySettings r = recoverySettings(restoreConfig({"--type=preserve"}));
    EXPECT_TRUE(writeRecoveryConfig(data, r).empty());
    EXPECT_EQ(test::readFile(dir / "postgresql.auto.conf"), "restore_command = 'keep'\n");
}

}  // namespace
}  // namespace backrest::cmd
