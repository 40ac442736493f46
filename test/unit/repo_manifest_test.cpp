// Backup manifest: JSON round trip of every field, totals, modes, and missing/damaged errors.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/error.h"
#include "repo/checksummed_json.h"
#include "repo/manifest.h"
#include "storage/posix.h"
#include "test/unit/temp_dir.h"
#include "test/unit/test_support.h"

namespace backrest::repo {
namespace {

namespace fs = std::filesystem;

using backrest::test::errorOf;

using backrest::test::has;

std::string shaOf(char c) {
    return std::string(64, c);
}

Manifest sampleManifest() {
    Manifest m;
    m.label = "20261121-235959F_20261122-010000I";
    m.type = "incr";
    m.prior = "20261121-235959F";
    m.timestampStart = 1795309200;
    m.timestampStop = 1795309260;
    m.lsnStart = "0/2000028";
    m.lsnStop = "0/2000100";
    m.walStart = "000000010000000000000002";
    m.walStop = "000000010000000000000002";
    m.timeline = 3;
    m.pgVersion = "15";
    m.systemId = 18446744073709551615ULL;  // survives JSON only as a string
    m.dbId = 2;
    m.walSegmentSize = 64 * 1024 * 1024;
    m.dataChecksums = true;
    m.compressType = "none";
    m.compressLevel = 0;
    m.backrestVersion = "0.1.0";
    m.targets = {{"pg_data", "/var/lib/postgresql/15/main", 0, ""},
                 {"pg_tblspc/16400", "/mnt/ts1", 16400, "ts1"}};
    m.paths = {{"pg_data", 0700, "postgres", "postgres"},
               {"pg_data/base", 0750, "postgres", "wheel"},
               {"pg_tblspc/16400", 0700, "postgres", "postgres"}};
    m.links = {{"pg_data/pg_tblspc/16400", "/mnt/ts1"}, {"pg_data/pg_wal", "/wal/15"}};
    m.files = {{"pg_data/PG_VERSION",
                3,
                3,
                1795300000,
                0600,
                "postgres",
                "postgres",
                shaOf('a'),
                "",
                0,
                0,
                {},
                0,
                0,
                true,
                {}},
               {"pg_data/base/1/1259",
                8192,
                120,
                -1,
                0640,
                "postgres",
                "wheel",
                shaOf('b'),
                "20261121-235959F",
                131072,
                0,
                {},
                0,
                0,
                true,
                {3, 17}},
               {"pg_tblspc/16400/PG_15_202209061/1/16401",
                0,
                0,
                0,
                04755,
                "",
                "",
                shaOf('c'),
                "",
                0,
                0,
                {},
                0,
                0,
                false,
                {}}};
    return m;
}

void expectEqual(const Manifest& a, const Manifest& b) {
    EXPECT_EQ(a.format, b.format);
    EXPECT_EQ(a.label, b.label);
    EXPECT_EQ(a.type, b.type);
    EXPECT_EQ(a.prior, b.prior);
    EXPECT_EQ(a.timestampStart, b.timestampStart);
    EXPECT_EQ(a.timestampStop, b.timestampStop);
    EXPECT_EQ(a.lsnStart, b.lsnStart);
    EXPECT_EQ(a.lsnStop, b.lsnStop);
    EXPECT_EQ(a.walStart, b.walStart);
    EXPECT_EQ(a.walStop, b.walStop);
    EXPECT_EQ(a.timeline, b.timeline);
    EXPECT_EQ(a.pgVersion, b.pgVersion);
    EXPECT_EQ(a.systemId, b.systemId);
    EXPECT_EQ(a.dbId, b.dbId);
    EXPECT_EQ(a.walSegmentSize, b.walSegmentSize);
    EXPECT_EQ(a.dataChecksums, b.dataChecksums);
    EXPECT_EQ(a.compressType, b.compressType);
    EXPECT_EQ(a.compressLevel, b.compressLevel);
    EXPECT_EQ(a.backrestVersion, b.backrestVersion);
    ASSERT_EQ(a.targets.size(), b.targets.size());
    for (size_t i = 0; i < a.targets.size(); i++) {
        EXPECT_EQ(a.targets[i].name, b.targets[i].name);
        EXPECT_EQ(a.targets[i].path, b.targets[i].path);
        EXPECT_EQ(a.targets[i].tablespaceOid, b.targets[i].tablespaceOid);
        EXPECT_EQ(a.targets[i].tablespaceName, b.targets[i].tablespaceName);
    }
    ASSERT_EQ(a.paths.size(), b.paths.size());
    for (size_t i = 0; i < a.paths.size(); i++) {
        EXPECT_EQ(a.paths[i].name, b.paths[i].name);
        EXPECT_EQ(a.paths[i].mode, b.paths[i].mode);
        EXPECT_EQ(a.paths[i].user, b.paths[i].user);
        EXPECT_EQ(a.paths[i].group, b.paths[i].group);
    }
    ASSERT_EQ(a.links.size(), b.links.size());
    for (size_t i = 0; i < a.links.size(); i++) {
        EXPECT_EQ(a.links[i].name, b.links[i].name);
        EXPECT_EQ(a.links[i].destination, b.links[i].destination);
    }
    ASSERT_EQ(a.files.size(), b.files.size());
    for (size_t i = 0; i < a.files.size(); i++) {
        SCOPED_TRACE(a.files[i].name);
        EXPECT_EQ(a.files[i].name, b.files[i].name);
        EXPECT_EQ(a.files[i].size, b.files[i].size);
        EXPECT_EQ(a.files[i].repoSize, b.files[i].repoSize);
        EXPECT_EQ(a.files[i].mtime, b.files[i].mtime);
        EXPECT_EQ(a.files[i].mode, b.files[i].mode);
        EXPECT_EQ(a.files[i].user, b.files[i].user);
        EXPECT_EQ(a.files[i].group, b.files[i].group);
        EXPECT_EQ(a.files[i].checksum, b.files[i].checksum);
        EXPECT_EQ(a.files[i].reference, b.files[i].reference);
        EXPECT_EQ(a.files[i].blockSize, b.files[i].blockSize);
        EXPECT_EQ(a.files[i].pageChecked, b.files[i].pageChecked);
        EXPECT_EQ(a.files[i].pageErrors, b.files[i].pageErrors);
        EXPECT_EQ(a.files[i].frameBytes, b.files[i].frameBytes);
        EXPECT_EQ(a.files[i].frames, b.files[i].frames);
        EXPECT_EQ(a.files[i].bundleId, b.files[i].bundleId);
        EXPECT_EQ(a.files[i].bundleOffset, b.files[i].bundleOffset);
    }
}

class RepoManifest : public ::testing::Test {
  protected:
    void SetUp() override { storage_ = std::make_unique<storage::PosixStorage>(root_); }

    storage::Storage& s() { return *storage_; }
    std::string get(const std::string& rel) { return test::readFile(root_ + "/" + rel); }
    void put(const std::string& rel, const std::string& content) {
        test::writeFile(root_ + "/" + rel, content);
    }
    // Saves `m` with `from` replaced by `to` in its (resealed) text: loading it must be a Format
    // error naming `file` and saying `message`.
    void expectRefused(const Manifest& m, const std::string& from, const std::string& to,
                       const std::string& file, const std::string& message) {
        saveManifest(s(), path_, m);
        std::string text = get(path_);
        std::string body = text.substr(0, text.rfind(",\"checksum\":\""));
        ASSERT_NE(body.find(from), std::string::npos);
        body.replace(body.find(from), from.size(), to);
        for (const std::string& name : {path_, path_ + ".copy"}) put(name, sealChecksummed(body));
        Error e = errorOf([&] { loadManifest(s(), path_); });
        EXPECT_EQ(e.code(), ErrorCode::Format) << e.what();
        EXPECT_TRUE(has(e.what(), file)) << e.what();
        EXPECT_TRUE(has(e.what(), message)) << e.what();
    }

    const std::string path_ = "backup/main/20261121-235959F_20261122-010000I/backup.manifest";
    backrest::test::TempDir tmp_{"repo-manifest"};
    std::string root_ = tmp_.path();
    std::unique_ptr<storage::PosixStorage> storage_;
};

TEST_F(RepoManifest, RoundTrip) {
    Manifest m = sampleManifest();
    saveManifest(s(), path_, m);
    EXPECT_TRUE(fs::exists(root_ + "/" + path_));
    EXPECT_TRUE(fs::exists(root_ + "/" + path_ + ".copy"));
    expectEqual(loadManifest(s(), path_), m);
}

// Files of either checksum kind in one manifest (an incremental referring to a backup taken
// with the other checksum-type): each is written under its algorithm's key and read back.
TEST_F(RepoManifest, MixedChecksumTypesRoundTrip) {
    Manifest m = sampleManifest();
    m.files[0].checksum = std::string(32, 'd');
    saveManifest(s(), path_, m);
    std::string text = get(path_);
    EXPECT_TRUE(has(text, "\"xxh3\":\"" + std::string(32, 'd') + "\"")) << text;
    EXPECT_TRUE(has(text, "\"sha256\":\"" + shaOf('b') + "\"")) << text;
    expectEqual(loadManifest(s(), path_), m);
}

// A checksum under the wrong key (or cut short) is refused, naming the file: taking it for the
// other algorithm would fail every restore of that file with a misleading message.
TEST_F(RepoManifest, ChecksumOfTheWrongLengthForItsKeyIsFormatError) {
    Manifest m = sampleManifest();
    saveManifest(s(), path_, m);
    std::string text = get(path_);
    std::string body = text.substr(0, text.rfind(",\"checksum\":\""));
    body.replace(body.find("\"sha256\":\"" + shaOf('b') + "\""), 9 + 64 + 2,
                 "\"xxh3\":\"" + shaOf('b') + "\"");
    for (const std::string& name : {path_, path_ + ".copy"}) put(name, sealChecksummed(body));
    Error e = errorOf([&] { loadManifest(s(), path_); });
    EXPECT_EQ(e.code(), ErrorCode::Format) << e.what();
    EXPECT_TRUE(has(e.what(), "pg_data/base/1/1259")) << e.what();
    EXPECT_TRUE(has(e.what(), "not a XXH3-128 checksum")) << e.what();
}

// The loader finds the file list's entries with its own scan of strings and nesting: names
// holding JSON's own punctuation, escapes and non-ASCII bytes must come back unchanged.
TEST_F(RepoManifest, NamesWithJsonPunctuationRoundTrip) {
    Manifest m = sampleManifest();
    m.files[0].name = "pg_data/odd},{\"name\":\"x\"}]\\[{";
    m.files[1].name = "pg_data/tab\there \u00e9t\u00e9 \x01";
    m.files[2].reference = "ref\"with\\quote";
    saveManifest(s(), path_, m);
    expectEqual(loadManifest(s(), path_), m);
}

// An entry may carry keys a later version adds, of any JSON type: they are skipped.
TEST_F(RepoManifest, UnknownKeysInAFileEntryAreSkipped) {
    saveManifest(s(), path_, sampleManifest());
    std::string text = get(path_);
    std::string body = text.substr(0, text.rfind(",\"checksum\":\""));
    size_t at = body.find("\"name\":\"pg_data/base/1/1259\"");
    ASSERT_NE(at, std::string::npos);
    body.insert(at, "\"future\":{\"a\":[1,{\"b\":\"}]\"}]},\"later\":[[]],");
    for (const std::string& name : {path_, path_ + ".copy"}) put(name, sealChecksummed(body));
    expectEqual(loadManifest(s(), path_), sampleManifest());
}

// A file stored as frames keeps its index; an index that does not describe the file (count or
// total size) is refused naming the file: a restore would write frames at the wrong offsets.
TEST_F(RepoManifest, FrameIndexRoundTripsAndIsChecked) {
    Manifest m = sampleManifest();
    m.files[0].size = 20000;
    m.files[0].repoSize = 600;
    m.files[0].frameBytes = 8192;
    m.files[0].frames = {250, 250, 100};
    saveManifest(s(), path_, m);
    EXPECT_TRUE(has(get(path_), "\"frame-bytes\":8192,\"frames\":[250,250,100],")) << get(path_);
    expectEqual(loadManifest(s(), path_), m);

    auto refused = [&](const std::string& from, const std::string& to, const std::string& message) {
        expectRefused(m, from, to, "pg_data/PG_VERSION", message);
    };
    refused("[250,250,100]", "[250,350]", "has 2 frames, 20000 bytes in frames of 8192 need 3");
    refused("[250,250,100]", "[250,250,101]",
            "has frames of 601 bytes in all, its repo-size is 600");
    refused("\"frame-bytes\":8192,", "", "\"frames\" without \"frame-bytes\"");
}

// A bundled file keeps its bundle and offset (offset 0 too); a bundle entry that cannot be one
// (offset without a bundle, or a bundled file with frames) is refused naming the file.
TEST_F(RepoManifest, BundleLocationRoundTripsAndIsChecked) {
    Manifest m = sampleManifest();
    m.files[0].bundleId = 3;
    m.files[0].bundleOffset = 0;
    m.files[2].bundleId = 3;
    m.files[2].bundleOffset = 4711;
    saveManifest(s(), path_, m);
    EXPECT_TRUE(has(get(path_), "{\"bundle-id\":3,\"bundle-offset\":0,\"group\":\"postgres\""))
        << get(path_);
    expectEqual(loadManifest(s(), path_), m);

    auto refused = [&](const std::string& from, const std::string& to, const std::string& message) {
        expectRefused(m, from, to, "pg_tblspc/16400/PG_15_202209061/1/16401", message);
    };
    refused("\"bundle-id\":3,\"bundle-offset\":4711", "\"bundle-offset\":4711",
            "has \"bundle-offset\" without \"bundle-id\"");
    refused("\"bundle-id\":3,\"bundle-offset\":4711",
            "\"bundle-id\":3,\"bundle-offset\":4711,\"frame-bytes\":8,\"frames\":[0]",
            "is stored in bundle 3 and as frames");
}

// Broken structure inside a sealed manifest (a writer bug, not damage): a Format error.
TEST_F(RepoManifest, UnbalancedFileListIsFormatError) {
    saveManifest(s(), path_, sampleManifest());
    std::string text = get(path_);
    std::string body = text.substr(0, text.rfind(",\"checksum\":\""));
    body.erase(body.find("\"page-errors\":[") + 15, 1);  // drop the first page number's first digit
    body.replace(body.find("]", body.find("\"page-errors\":[")), 1, "");
    for (const std::string& name : {path_, path_ + ".copy"}) put(name, sealChecksummed(body));
    Error e = errorOf([&] { loadManifest(s(), path_); });
    EXPECT_EQ(e.code(), ErrorCode::Format) << e.what();
    EXPECT_TRUE(has(e.what(), "is malformed")) << e.what();
}

TEST_F(RepoManifest, EmptyListsRoundTrip) {
    Manifest m;
    m.label = "19700101-000000F";
    saveManifest(s(), path_, m);
    Manifest back = loadManifest(s(), path_);
    expectEqual(back, m);
    EXPECT_EQ(back.type, "full");
    EXPECT_EQ(back.compressType, "zst");
}

TEST_F(RepoManifest, ReferenceOnlyWrittenWhenSet) {
    saveManifest(s(), path_, sampleManifest());
    std::string text = get(path_);
    size_t count = 0;
    for (size_t at = text.find("\"reference\""); at != std::string::npos;
         at = text.find("\"reference\"", at + 1))
        count++;
    EXPECT_EQ(count, 1u) << text;
    EXPECT_TRUE(has(text, "\"system-id\":\"18446744073709551615\"")) << text;
}

TEST_F(RepoManifest, Totals) {
    Manifest m = sampleManifest();
    EXPECT_EQ(m.totalSize(), 3u + 8192u + 0u);
    EXPECT_EQ(m.totalRepoSize(), 3u);  // the referenced file is stored by its own backup
    EXPECT_EQ(Manifest{}.totalSize(), 0u);
    EXPECT_EQ(Manifest{}.totalRepoSize(), 0u);
}

TEST_F(RepoManifest, Modes) {
    EXPECT_EQ(modeString(0640), "0640");
    EXPECT_EQ(modeString(0700), "0700");
    EXPECT_EQ(modeString(0), "0000");
    EXPECT_EQ(modeString(04755), "4755");
    EXPECT_EQ(modeString(0100644), "0644");  // type bits dropped
    EXPECT_EQ(parseMode("0640"), 0640u);
    EXPECT_EQ(parseMode("755"), 0755u);
    EXPECT_EQ(parseMode("7777"), 07777u);
    for (const char* bad : {"", "0648", "10000", "abc", "0640x", "-1"}) {
        Error e = errorOf([&] { parseMode(bad); });
        EXPECT_EQ(e.code(), ErrorCode::Format) << bad;
        EXPECT_TRUE(has(e.what(), std::string("'") + bad + "'")) << e.what();
    }
}

TEST_F(RepoManifest, MissingIsBackupSetError) {
    Error e = errorOf([&] { loadManifest(s(), path_); });
    EXPECT_EQ(e.code(), ErrorCode::BackupSet);
    EXPECT_TRUE(has(e.what(), root_ + "/" + path_)) << e.what();
}

TEST_F(RepoManifest, TamperedBothCopiesIsChecksumError) {
    saveManifest(s(), path_, sampleManifest());
    for (const std::string& name : {path_, path_ + ".copy"}) {
        std::string text = get(name);
        text.replace(text.find("\"size\":8192"), 11, "\"size\":8193");
        put(name, text);
    }
    Error e = errorOf([&] { loadManifest(s(), path_); });
    EXPECT_EQ(e.code(), ErrorCode::Checksum);
    EXPECT_TRUE(has(e.what(), root_ + "/" + path_)) << e.what();
}

TEST_F(RepoManifest, TamperedMainFallsBackToCopy) {
    saveManifest(s(), path_, sampleManifest());
    std::string text = get(path_);
    text.replace(text.find("\"size\":8192"), 11, "\"size\":8193");
    put(path_, text);
    expectEqual(loadManifest(s(), path_), sampleManifest());
}

}  // namespace
}  // namespace backrest::repo
