// info's JSON (worker/info_json.cpp): pgBackRest 2.45's keys with pgBackRest's meanings, the
// status codes, --set's detail and --type's filter, and the held backup lock.
#include <gtest/gtest.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "repo/info.h"
#include "repo/lock.h"
#include "repo/manifest.h"
#include "storage/posix.h"
#include "test/unit/temp_dir.h"
#include "worker/info.h"

namespace backrest::cmd {
namespace {

using nlohmann::json;

repo::BackupSummary diffSummary() {
    repo::BackupSummary s;
    s.label = "20261121-235959F_20261122-010000D";
    s.type = "diff";
    s.prior = "20261121-235959F";
    s.timestampStart = 1795309200;
    s.timestampStop = 1795309260;
    s.lsnStart = "0/5000028";
    s.lsnStop = "0/5000100";
    s.walStart = "000000010000000000000005";
    s.walStop = "000000010000000000000005";
    s.timeline = 1;
    s.size = 30000000;
    s.delta = 8192;
    s.repoSize = 300;
    s.repoSetSize = 3000000;
    s.fileCount = 1000;
    s.dbId = 1;
    s.references = {"20261121-235959F"};
    s.backrestVersion = "0.1.0";
    return s;
}

TEST(InfoJson, BackupHasPgBackRestsKeysAndMeanings) {
    json b = backupJson(diffSummary());
    EXPECT_EQ(b["label"], "20261121-235959F_20261122-010000D");
    EXPECT_EQ(b["type"], "diff");
    EXPECT_EQ(b["prior"], "20261121-235959F");
    EXPECT_EQ(b["reference"], json::array({"20261121-235959F"}));
    EXPECT_EQ(b["timestamp"], json({{"start", 1795309200}, {"stop", 1795309260}}));
    EXPECT_EQ(b["lsn"], json({{"start", "0/5000028"}, {"stop", "0/5000100"}}));
    EXPECT_EQ(b["archive"]["start"], "000000010000000000000005");
    EXPECT_EQ(b["backrest"], json({{"format", 1}, {"version", "0.1.0"}}));
    EXPECT_EQ(b["database"], json({{"id", 1}, {"repo-key", 1}}));
    EXPECT_EQ(b["error"], false);
    // size: the cluster; delta: what this backup copied; repository.size: what a restore reads;
    // repository.delta: what this backup stored.
    EXPECT_EQ(b["info"]["size"], 30000000);
    EXPECT_EQ(b["info"]["delta"], 8192);
    EXPECT_EQ(b["info"]["repository"], json({{"size", 3000000}, {"delta", 300}}));
    // backrest's additions stay.
    EXPECT_EQ(b["info"]["file-count"], 1000);
    EXPECT_EQ(b["info"]["page-error-files"], 0);
    EXPECT_EQ(b["timeline"], 1);
    EXPECT_FALSE(b.contains("annotation"));  // pgBackRest omits it when there is none
    EXPECT_FALSE(b.contains("database-ref"));
}

TEST(InfoJson, FullHasNullPriorAndReferenceAndPageErrorsAreAnError) {
    auto s = diffSummary();
    s.type = "full";
    s.prior.clear();
    s.references.clear();
    s.pageErrorFiles = 2;
    s.annotations = {{"ticket", "OPS-1"}, {"who", "dba"}};
    json b = backupJson(s);
    EXPECT_TRUE(b["prior"].is_null());
    EXPECT_TRUE(b["reference"].is_null());
    EXPECT_EQ(b["error"], true);
    EXPECT_EQ(b["info"]["page-error-files"], 2);
    EXPECT_EQ(b["annotation"], json({{"ticket", "OPS-1"}, {"who", "dba"}}));
}

TEST(InfoJson, StatusCodesArePgBackRests) {
    EXPECT_EQ(statusJson(InfoStatus::Ok), json({{"code", 0}, {"message", "ok"}}));
    EXPECT_EQ(statusJson(InfoStatus::MissingStanzaPath),
              json({{"code", 1}, {"message", "missing stanza path"}}));
    EXPECT_EQ(statusJson(InfoStatus::NoBackup),
              json({{"code", 2}, {"message", "no valid backups"}}));
    EXPECT_EQ(statusJson(InfoStatus::MissingStanzaData),
              json({{"code", 3}, {"message", "missing stanza data"}}));
    EXPECT_EQ(statusJson(InfoStatus::BackupMissing),
              json({{"code", 6}, {"message", "requested backup not found"}}));
}

repo::Manifest manifestWithTablespace() {
    repo::Manifest m;
    m.targets = {{"pg_data", "/var/lib/postgresql/15/main", 0, ""},
                 {"pg_tblspc/16400", "/mnt/ts1", 16400, "ts1"}};
    m.paths = {{"pg_data", 0700, "postgres", "postgres"},
               {"pg_data/base", 0700, "postgres", "postgres"},
               {"pg_data/base/16384", 0700, "postgres", "postgres"},
               {"pg_data/base/5", 0700, "postgres", "postgres"},
               {"pg_data/base/1", 0700, "postgres", "postgres"},
               {"pg_data/base/pgsql_tmp", 0700, "postgres", "postgres"},
               {"pg_tblspc/16400", 0700, "postgres", "postgres"}};
    m.links = {{"pg_data/pg_tblspc/16400", "/mnt/ts1"}, {"pg_data/pg_wal", "/wal/15"}};
    return m;
}

TEST(InfoJson, SetAddsDatabasesLinksAndTablespaces) {
    json b = backupJson(diffSummary());
    addSetDetail(b, manifestWithTablespace());
    // A backup that did not record names: oids in order, empty names, templates included.
    EXPECT_EQ(b["database-ref"], json::parse(R"([{"name":"","oid":1},{"name":"","oid":5},
                                                 {"name":"","oid":16384}])"));
    // A tablespace's link is listed as the tablespace, not as a link (as pgBackRest).
    EXPECT_EQ(b["link"], json::parse(R"([{"destination":"/wal/15","name":"pg_data/pg_wal"}])"));
    EXPECT_EQ(b["tablespace"],
              json::parse(R"([{"destination":"/mnt/ts1","name":"ts1","oid":16400}])"));
}

// As pgBackRest: the databases by name, without template0 and template1; postgres is listed.
TEST(InfoJson, SetListsRecordedDatabasesByNameWithoutTemplates) {
    repo::Manifest m = manifestWithTablespace();
    m.databases = std::vector<repo::ManifestDatabase>{
        {"bench", 16384}, {"postgres", 5}, {"template0", 4}, {"template1", 1}};
    json b = backupJson(diffSummary());
    addSetDetail(b, m);
    EXPECT_EQ(b["database-ref"], json::parse(R"([{"name":"bench","oid":16384},
                                                 {"name":"postgres","oid":5}])"));
    // Only templates: an empty array, never null (pgBackRest adds the key "even if none found").
    m.databases = std::vector<repo::ManifestDatabase>{{"template0", 4}, {"template1", 1}};
    EXPECT_EQ(databaseRefJson(m), json::array());
}

// The text: pgBackRest's "database list: name (oid), ..." line; oids alone when names were not
// recorded.
TEST(InfoText, DatabaseListAsPgBackRestPrintsIt) {
    auto textOf = [](const repo::Manifest& m) {
        json b = backupJson(diffSummary());
        addSetDetail(b, m);
        json stanza = {{"name", "main"},           {"status", statusJson(InfoStatus::Ok)},
                       {"cipher", "none"},         {"db", json::array({{{"id", 1}}})},
                       {"archive", json::array()}, {"backup", json::array({b})}};
        testing::internal::CaptureStdout();
        printInfoText(stanza);
        std::fflush(stdout);
        return testing::internal::GetCapturedStdout();
    };
    repo::Manifest m = manifestWithTablespace();
    m.databases =
        std::vector<repo::ManifestDatabase>{{"bench", 16384}, {"postgres", 5}, {"template1", 1}};
    std::string text = textOf(m);
    EXPECT_NE(text.find("\n            database list: bench (16384), postgres (5)\n"),
              std::string::npos)
        << text;
    m.databases = std::vector<repo::ManifestDatabase>{{"template1", 1}};
    text = textOf(m);
    EXPECT_NE(text.find("\n            database list: none\n"), std::string::npos) << text;
    m.databases.reset();
    text = textOf(m);
    EXPECT_NE(text.find("\n            database list (oid, names not recorded): 1, 5, 16384\n"),
              std::string::npos)
        << text;
}

TEST(InfoJson, SetWithoutLinksOrTablespacesGivesNull) {
    repo::Manifest m;
    m.paths = {{"pg_data/base/1", 0700, "postgres", "postgres"}};
    json b = backupJson(diffSummary());
    addSetDetail(b, m);
    EXPECT_EQ(b["database-ref"].size(), 1u);
    EXPECT_TRUE(b["link"].is_null());
    EXPECT_TRUE(b["tablespace"].is_null());
}

// A stanza in a posix repository, written as stanza-create and backup write it.
class InfoStanza : public ::testing::Test {
  protected:
    test::TempDir dir_{"worker-info-json"};
    storage::PosixStorage repo_{dir_ / "repo"};
    repo::Layout layout_{"main", nullptr};

    void createStanza() {
        repo::BackupInfo backups;
        backups.history = {{1, "15", 7300000000000000001ULL}};
        repo::saveBackupInfo(repo_, layout_, backups);
        repo::ArchiveInfo archive;
        archive.history = backups.history;
        repo::saveArchiveInfo(repo_, layout_, archive);
    }
    void addBackups() {
        auto info = *repo::loadBackupInfo(repo_, layout_);
        auto full = diffSummary();
        full.label = "20261121-235959F";
        full.type = "full";
        full.prior.clear();
        full.references.clear();
        auto incr = diffSummary();
        incr.label = "20261121-235959F_20261122-020000I";
        incr.type = "incr";
        incr.prior = diffSummary().label;
        incr.references = {"20261121-235959F"};  // no file of the diff reused
        info.backups = {full, diffSummary(), incr};
        repo::saveBackupInfo(repo_, layout_, info);
    }
    json info(const InfoQuery& query = {}) { return stanzaInfoJson(repo_, layout_, query); }
};

TEST_F(InfoStanza, NoStanzaPathIsCode1) {
    json s = info();
    EXPECT_EQ(s["name"], "main");
    EXPECT_EQ(s["status"]["code"], 1);
    EXPECT_EQ(s["status"]["message"], "missing stanza path");
    EXPECT_EQ(s["repo"], json::parse(R"([{"cipher":"none","key":1,
        "status":{"code":1,"message":"missing stanza path"}}])"));
    EXPECT_EQ(s["status"]["lock"]["backup"]["held"], false);
    EXPECT_TRUE(s["backup"].empty());
    EXPECT_TRUE(s["db"].empty());
}

TEST_F(InfoStanza, StanzaPathWithoutInfoFilesIsCode3) {
    createStanza();
    repo_.remove(layout_.archiveInfo(), false);
    repo_.remove(layout_.archiveInfo() + ".copy", false);
    json s = info();
    EXPECT_EQ(s["status"]["code"], 3);
    EXPECT_EQ(s["status"]["message"], "missing stanza data");
}

TEST_F(InfoStanza, NoBackupIsCode2ThenOkWithDbAndArchive) {
    createStanza();
    EXPECT_EQ(info()["status"]["code"], 2);
    addBackups();
    json s = info();
    EXPECT_EQ(s["status"]["code"], 0);
    EXPECT_EQ(s["status"]["message"], "ok");
    EXPECT_EQ(s["cipher"], "none");
    EXPECT_EQ(s["db"], json::parse(R"([{"id":1,"repo-key":1,"system-id":7300000000000000001,
                                       "version":"15"}])"));
    ASSERT_EQ(s["archive"].size(), 1u);
    EXPECT_EQ(s["archive"][0]["id"], "15-1");
    EXPECT_EQ(s["archive"][0]["database"], json({{"id", 1}, {"repo-key", 1}}));
    EXPECT_TRUE(s["archive"][0]["min"].is_null());
    ASSERT_EQ(s["backup"].size(), 3u);
    EXPECT_EQ(s["backup"][1]["info"]["repository"]["size"], 3000000);
    // The reference list is the chain of priors, as pgBackRest's.
    EXPECT_TRUE(s["backup"][0]["reference"].is_null());
    EXPECT_EQ(s["backup"][2]["reference"],
              json::array({"20261121-235959F", "20261121-235959F_20261122-010000D"}));
}

TEST_F(InfoStanza, TypeFiltersAndAnUnknownSetIsCode6) {
    createStanza();
    addBackups();
    json s = info({.set = "", .type = "diff", .lockPath = ""});
    ASSERT_EQ(s["backup"].size(), 1u);
    EXPECT_EQ(s["backup"][0]["type"], "diff");
    EXPECT_EQ(s["status"]["code"], 0);
    s = info({.set = "20261121-235959F", .type = "diff", .lockPath = ""});
    EXPECT_TRUE(s["backup"].empty());
    EXPECT_EQ(s["status"], json::parse(R"({"code":6,"lock":{"backup":{"held":false}},
                                           "message":"requested backup not found"})"));
    EXPECT_EQ(s["status"]["code"], 6);
    EXPECT_EQ(s["repo"][0]["status"]["message"], "requested backup not found");
}

TEST_F(InfoStanza, SetReadsTheManifest) {
    createStanza();
    addBackups();
    repo::Manifest m = manifestWithTablespace();
    m.label = "20261121-235959F";
    m.files = {{"pg_data/PG_VERSION",
                3,
                3,
                0,
                0600,
                "postgres",
                "postgres",
                std::string(32, 'a'),
                "",
                0,
                0,
                {},
                0,
                0,
                false,
                {}}};
    repo::saveManifest(repo_, layout_.manifest(m.label), m);
    json s = info({.set = "20261121-235959F", .type = "", .lockPath = ""});
    ASSERT_EQ(s["backup"].size(), 1u);
    EXPECT_EQ(s["backup"][0]["tablespace"][0]["oid"], 16400);
    EXPECT_EQ(s["backup"][0]["database-ref"].size(), 3u);
}

TEST_F(InfoStanza, HeldBackupLockIsReported) {
    createStanza();
    std::string locks = dir_ / "lock";
    {
        repo::StanzaLock lock(locks, "main", "backup");
        EXPECT_EQ(
            info({.set = "", .type = "", .lockPath = locks})["status"]["lock"]["backup"]["held"],
            true);
    }
    EXPECT_EQ(info({.set = "", .type = "", .lockPath = locks})["status"]["lock"]["backup"]["held"],
              false);
}

}  // namespace
}  // namespace backrest::cmd
