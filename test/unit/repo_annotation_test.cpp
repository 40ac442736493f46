// Annotations (repo/annotation.h): parsing --annotation, add/change/remove, and their keeping in
// the manifest and backup.info; with the other facts info reads from a manifest's summary
// (delta, repository set size, references, version).
#include <gtest/gtest.h>

#include <string>

#include "common/error.h"
#include "repo/annotation.h"
#include "repo/info.h"
#include "repo/lock.h"
#include "repo/lock_probe.h"
#include "repo/manifest.h"
#include "storage/posix.h"
#include "test/unit/temp_dir.h"
#include "test/unit/test_support.h"

namespace backrest::repo {
namespace {

using backrest::test::errorOf;
using backrest::test::has;

TEST(Annotation, ParseKeepsValuesAndEmptyMeansRemove) {
    auto changes = parseAnnotations({"ticket=OPS-1", "note=a=b", "gone=", "ticket=OPS-2"}, "x");
    ASSERT_EQ(changes.size(), 3u);
    EXPECT_EQ(changes.at("ticket"), "OPS-2");  // the last one given wins
    EXPECT_EQ(changes.at("note"), "a=b");      // only the first '=' separates
    EXPECT_FALSE(changes.at("gone").has_value());
}

TEST(Annotation, ParseRefusesWhatIsNotKeyValue) {
    for (const char* bad : {"novalue", "=value"}) {
        Error e = errorOf([&] { parseAnnotations({bad}, "annotate"); });
        EXPECT_EQ(e.code(), ErrorCode::Option) << bad;
        EXPECT_TRUE(has(e.what(), "annotate: --annotation='" + std::string(bad) + "'")) << e.what();
    }
}

TEST(Annotation, ApplyAddsChangesAndRemoves) {
    std::map<std::string, std::string> now = {{"a", "1"}, {"b", "2"}};
    auto after = applyAnnotations(
        now, {{"a", "one"}, {"b", std::nullopt}, {"c", "3"}, {"never", std::nullopt}});
    EXPECT_EQ(after, (std::map<std::string, std::string>{{"a", "one"}, {"c", "3"}}));
}

Manifest diffManifest() {
    Manifest m;
    m.label = "20261121-235959F_20261122-010000D";
    m.type = "diff";
    m.prior = "20261121-235959F";
    m.pgVersion = "15";
    m.systemId = 1;
    m.backrestVersion = "0.1.0";
    m.targets = {{"pg_data", "/data", 0, ""}};
    m.paths = {{"pg_data", 0700, "postgres", "postgres"}};
    ManifestFile mine{
        "pg_data/a", 1000, 100, 0,  0600, "postgres", "postgres", std::string(32, 'a'),
        "",          0,    0,   {}, 0,    0,          false,      {}};
    ManifestFile old = mine;
    old.name = "pg_data/b";
    old.size = 5000;
    old.repoSize = 700;
    old.reference = "20261121-235959F";
    m.files = {mine, old};
    m.annotations = {{"ticket", "OPS-1"}, {"quote", "say \"hi\""}};
    return m;
}

TEST(Annotation, KeptInTheManifestAndAbsentWhenNone) {
    test::TempDir dir{"repo-annotation"};
    storage::PosixStorage repo(dir.path());
    saveManifest(repo, "m", diffManifest());
    EXPECT_EQ(loadManifest(repo, "m").annotations, diffManifest().annotations);
    Manifest plain = diffManifest();
    plain.annotations.clear();
    saveManifest(repo, "p", plain);
    EXPECT_FALSE(has(storage::readAll(repo, "p"), "annotation"));
    EXPECT_TRUE(loadManifest(repo, "p").annotations.empty());
}

TEST(Annotation, SummaryHasPgBackRestsSizesReferencesAndSurvivesBackupInfo) {
    BackupSummary s = BackupSummary::of(diffManifest());
    EXPECT_EQ(s.size, 6000u);
    EXPECT_EQ(s.delta, 1000u);       // copied by this backup
    EXPECT_EQ(s.repoSize, 100u);     // stored by this backup
    EXPECT_EQ(s.repoSetSize, 800u);  // what a restore reads
    EXPECT_EQ(s.references, std::vector<std::string>{"20261121-235959F"});
    EXPECT_EQ(s.backrestVersion, "0.1.0");
    EXPECT_EQ(s.annotations.at("ticket"), "OPS-1");

    test::TempDir dir{"repo-annotation"};
    storage::PosixStorage repo(dir.path());
    Layout layout{"main", nullptr};
    BackupInfo info;
    info.history = {{1, "15", 1}};
    info.backups = {s};
    saveBackupInfo(repo, layout, info);
    BackupSummary back = loadBackupInfo(repo, layout)->backups.at(0);
    EXPECT_EQ(back.delta, 1000u);
    EXPECT_EQ(back.repoSetSize, 800u);
    EXPECT_EQ(back.references, s.references);
    EXPECT_EQ(back.backrestVersion, "0.1.0");
    EXPECT_EQ(back.annotations, s.annotations);
}

TEST(LockProbe, FindsTheFlockOfTheInodeOnly) {
    std::string locks =
        "1: POSIX  ADVISORY  WRITE 7141 fe:00:5513888 0 EOF\n"
        "2: FLOCK  ADVISORY  WRITE 7000 fe:01:42 0 EOF\n"
        "2: -> FLOCK  ADVISORY  WRITE 7001 08:02:77 0 EOF\n";
    EXPECT_TRUE(flockListedFor(locks, 0xfe, 1, 42));
    EXPECT_FALSE(flockListedFor(locks, 0xfe, 0, 5513888));  // a POSIX lock is not ours
    EXPECT_FALSE(flockListedFor(locks, 8, 2, 77));          // waiting, not holding
    EXPECT_FALSE(flockListedFor(locks, 0xfe, 1, 43));
}

TEST(LockProbe, SeesAHeldStanzaLockWithoutTakingIt) {
    test::TempDir dir{"repo-lock-probe"};
    EXPECT_FALSE(stanzaLockHeld(dir.path(), "main", "backup"));  // no file
    {
        StanzaLock lock(dir.path(), "main", "backup");
        EXPECT_TRUE(stanzaLockHeld(dir.path(), "main", "backup"));
        EXPECT_FALSE(stanzaLockHeld(dir.path(), "other", "backup"));
    }
    EXPECT_FALSE(stanzaLockHeld(dir.path(), "main", "backup"));
    // The probe left the lock free for the next holder.
    StanzaLock again(dir.path(), "main", "backup");
}

}  // namespace
}  // namespace backrest::repo
