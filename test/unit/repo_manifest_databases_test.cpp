// The manifest's additions for info (issue 20): the databases recorded at backup start and a
// block-stored file's bytes in earlier backups. Both round trip, and a manifest without them —
// one written before they existed — loads and is written byte for byte as before.
#include <gtest/gtest.h>

#include <string>

#include "repo/checksummed_json.h"
#include "repo/manifest.h"
#include "storage/posix.h"
#include "test/unit/manifest_support.h"
#include "test/unit/temp_dir.h"
#include "test/unit/test_support.h"

namespace backrest::repo {
namespace {

using test::smallManifest;

class RepoManifestDatabases : public ::testing::Test {
  protected:
    Manifest roundTrip(const Manifest& m) {
        saveManifest(repo_, path_, m);
        return loadManifest(repo_, path_);
    }
    std::string text() { return test::readFile(dir_.path() + "/" + path_); }

    test::TempDir dir_{"repo-manifest-databases"};
    storage::PosixStorage repo_{dir_.path()};
    const std::string path_ = "backup/main/20261121-235959F/backup.manifest";
};

TEST_F(RepoManifestDatabases, NamesRoundTripInTheDbSection) {
    Manifest m = smallManifest();
    m.databases = std::vector<ManifestDatabase>{
        {"bench", 16384}, {"postgres", 5}, {"template0", 4}, {"template1", 1}};
    Manifest back = roundTrip(m);
    ASSERT_TRUE(back.databases);
    EXPECT_EQ(*back.databases, *m.databases);
    EXPECT_TRUE(test::has(
        text(), R"("databases":[{"name":"bench","oid":16384},{"name":"postgres","oid":5},)"
                R"({"name":"template0","oid":4},{"name":"template1","oid":1}])"))
        << text();
}

TEST_F(RepoManifestDatabases, NoNamesIsNotRecordedAndWritesNoKey) {
    Manifest back = roundTrip(smallManifest());
    EXPECT_FALSE(back.databases);  // info falls back to the oids of base/
    EXPECT_FALSE(test::has(text(), "databases")) << text();
    EXPECT_FALSE(test::has(text(), "referenced-block-bytes")) << text();
    EXPECT_EQ(back.files[0].referencedBlockBytes, 0u);
}

// A recorded empty list (no database at all, which PostgreSQL does not allow, but the format
// does) stays a list: "recorded, none" is not "not recorded".
TEST_F(RepoManifestDatabases, AnEmptyListStaysRecorded) {
    Manifest m = smallManifest();
    m.databases.emplace();
    Manifest back = roundTrip(m);
    ASSERT_TRUE(back.databases);
    EXPECT_TRUE(back.databases->empty());
}

// A manifest of a backrest that did not know the keys: one written now with the keys taken out
// of its text (and resealed) loads, without names and with no earlier block bytes.
TEST_F(RepoManifestDatabases, AnOlderManifestLoads) {
    Manifest m = smallManifest();
    m.databases = std::vector<ManifestDatabase>{{"postgres", 5}};
    m.files[0].blockSize = 65536;
    m.files[0].referencedBlockBytes = 777;
    saveManifest(repo_, path_, m);
    std::string body = text().substr(0, text().rfind(",\"checksum\":\""));
    for (const std::string& key : {std::string(R"(,"databases":[{"name":"postgres","oid":5}])"),
                                   std::string(R"(,"referenced-block-bytes":777)")}) {
        ASSERT_TRUE(test::has(body, key)) << body;
        body.erase(body.find(key), key.size());
    }
    for (const std::string& name : {path_, path_ + ".copy"})
        test::writeFile(dir_.path() + "/" + name, sealChecksummed(body));
    Manifest back = loadManifest(repo_, path_);
    EXPECT_FALSE(back.databases);
    EXPECT_EQ(back.files[0].referencedBlockBytes, 0u);
    EXPECT_EQ(back.files[0].blockSize, 65536u);
    EXPECT_EQ(back.files[0].repoSize, 5000u);
}

TEST_F(RepoManifestDatabases, ReferencedBlockBytesRoundTrip) {
    Manifest m = smallManifest();
    m.files[0].blockSize = 65536;
    m.files[0].reference = "20261120-235959F";
    m.files[0].referencedBlockBytes = 123456789012ULL;
    Manifest back = roundTrip(m);
    EXPECT_EQ(back.files[0].referencedBlockBytes, 123456789012ULL);
    EXPECT_EQ(back.files[0].repoSize, 5000u);
    // Between "reference" and "repo-size": the keys stay in nlohmann's sorted order.
    EXPECT_TRUE(test::has(text(), R"("reference":"20261120-235959F",)"
                                  R"("referenced-block-bytes":123456789012,"repo-size":5000)"))
        << text();
}

}  // namespace
}  // namespace backrest::repo
