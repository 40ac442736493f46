// repo_cipher: the envelope line ahead of a sealed info file, the highest-generation rule, the
// errors of every mismatch between the cipher settings and the repository, and rekey.
#include "repo/repo_cipher.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "common/error.h"
#include "crypto/sealed.h"
#include "repo/checksummed_json.h"
#include "repo/info.h"
#include "storage/posix.h"
#include "test/unit/test_support.h"

namespace backrest::repo {
namespace {

namespace fs = std::filesystem;
using backrest::test::errorOf;

class RepoCipherTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               ("repo-cipher-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
        repo_ = std::make_unique<storage::PosixStorage>(dir_.string());
    }
    void TearDown() override { fs::remove_all(dir_); }

    // An encrypted stanza as stanza-create makes it, under `pass`.
    std::shared_ptr<const crypto::RepoKey> create(const std::string& pass) {
        auto key = crypto::RepoKey::generate();
        rememberEnvelope(*key, crypto::wrapKey(*key, pass, 1));
        layout_.key = key;
        saveArchiveInfo(*repo_, layout_, ArchiveInfo{{{1, "15", 42}}});
        saveBackupInfo(*repo_, layout_, BackupInfo{{{1, "15", 42}}, {}});
        return key;
    }
    std::string read(const std::string& path) { return storage::readAll(*repo_, path); }
    void write(const std::string& path, const std::string& text) {
        storage::writeAll(*repo_, path, text);
    }

    fs::path dir_;
    std::unique_ptr<storage::PosixStorage> repo_;
    Layout layout_{"main", nullptr};
    Layout bare_{"main", nullptr};
};

TEST_F(RepoCipherTest, InfoFileIsEnvelopeLineThenSealedBody) {
    auto key = create("pass-one");
    for (const std::string& path : {layout_.backupInfo(), layout_.backupInfo() + ".copy",
                                    layout_.archiveInfo(), layout_.archiveInfo() + ".copy"}) {
        std::string stored = read(path);
        ASSERT_TRUE(stored.starts_with("{\"key-envelope\":")) << path;
        size_t nl = stored.find('\n');
        ASSERT_NE(nl, std::string::npos);
        auto envelope = readEnvelopeLine(stored, path);
        ASSERT_TRUE(envelope);
        EXPECT_EQ(envelope->generation, 1u);
        EXPECT_EQ(envelope->keyId, key->id());
        std::string body = stored.substr(nl + 1);
        EXPECT_TRUE(body.starts_with("BRS1")) << path;
        EXPECT_EQ(body.find("db-history"), std::string::npos);
    }
    // Read back with the key; without it, a CryptoError naming the file.
    auto info = loadBackupInfo(*repo_, layout_);
    ASSERT_TRUE(info);
    EXPECT_EQ(info->current().systemId, 42u);
    Error e = errorOf([&] { loadBackupInfo(*repo_, bare_); });
    EXPECT_EQ(e.code(), ErrorCode::Crypto) << e.what();
    EXPECT_NE(std::string(e.what()).find("backup.info' is encrypted"), std::string::npos)
        << e.what();
}

TEST_F(RepoCipherTest, OpenKeyAndEveryMismatch) {
    auto key = create("pass-one");
    auto opened = openRepoKey(*repo_, bare_, {"aes-256-gcm", "pass-one"});
    ASSERT_TRUE(opened);
    EXPECT_EQ(opened->id(), key->id());
    auto message = [&](const CipherSettings& s) {
        Error e = errorOf([&] { openRepoKey(*repo_, bare_, s); });
        EXPECT_EQ(e.code(), ErrorCode::Crypto) << e.what();
        std::string m = e.what();
        EXPECT_EQ(m.find("pass-one"), std::string::npos) << m;
        EXPECT_EQ(m.find("wrong-pass"), std::string::npos) << m;
        return m;
    };
    EXPECT_NE(message({"aes-256-gcm", "wrong-pass"})
                  .find("repo1-cipher-pass does not open the key of '" +
                        repo_->fullPath(layout_.backupInfo()) + "'"),
              std::string::npos);
    EXPECT_NE(message({"aes-256-gcm", std::nullopt}).find("repo1-cipher-pass is not set"),
              std::string::npos);
    EXPECT_NE(message({"none", std::nullopt}).find("is encrypted with aes-256-gcm"),
              std::string::npos);
    // A plain repository.
    fs::remove_all(dir_ / "backup");
    fs::remove_all(dir_ / "archive");
    EXPECT_EQ(openRepoKey(*repo_, bare_, {"aes-256-gcm", "x"}),
              nullptr);  // empty: stanza-create makes it
    saveBackupInfo(*repo_, bare_, BackupInfo{{{1, "15", 42}}, {}});
    EXPECT_TRUE(read(layout_.backupInfo()).starts_with("{\"backups\""));  // unchanged format
    EXPECT_EQ(openRepoKey(*repo_, bare_, {"none", std::nullopt}), nullptr);
    EXPECT_NE(message({"aes-256-gcm", "pass-one"}).find("is not encrypted"), std::string::npos);
    EXPECT_NE(message({"none", "pass-one"})
                  .find("repo1-cipher-pass is set but repo1-cipher-type is none"),
              std::string::npos);
}

TEST_F(RepoCipherTest, HighestGenerationOfMainFilesCounts) {
    create("old");
    // An interrupted rekey that wrote only backup.info.copy: its main file still counts.
    std::string body = read(layout_.backupInfo()).substr(read(layout_.backupInfo()).find('\n') + 1);
    auto key = openRepoKey(*repo_, bare_, {"aes-256-gcm", "old"});
    write(layout_.backupInfo() + ".copy", envelopeLine(crypto::wrapKey(*key, "new", 2)) + body);
    auto scan = scanRepoCipher(*repo_, bare_);
    EXPECT_EQ(scan.counted->envelope.generation, 1u);
    EXPECT_EQ(scan.counted->highestSeen, 2u);
    EXPECT_TRUE(openRepoKey(*repo_, bare_, {"aes-256-gcm", "old"}));
    EXPECT_EQ(errorOf([&] {
                  openRepoKey(*repo_, bare_, {"aes-256-gcm", "new"});
              }).code(),
              ErrorCode::Crypto);
    // The main file written too: the new passphrase counts, the old one no longer opens.
    write(layout_.backupInfo(), envelopeLine(crypto::wrapKey(*key, "new", 2)) + body);
    EXPECT_EQ(scanRepoCipher(*repo_, bare_).counted->path, layout_.backupInfo());
    EXPECT_TRUE(openRepoKey(*repo_, bare_, {"aes-256-gcm", "new"}));
    EXPECT_EQ(errorOf([&] {
                  openRepoKey(*repo_, bare_, {"aes-256-gcm", "old"});
              }).code(),
              ErrorCode::Crypto);
    // A damaged main envelope: its .copy counts instead.
    std::string stored = read(layout_.backupInfo());
    stored[20] ^= 1;
    write(layout_.backupInfo(), stored);
    EXPECT_EQ(scanRepoCipher(*repo_, bare_).counted->path, layout_.backupInfo() + ".copy");
    // Every envelope damaged: a CryptoError naming them.
    for (const std::string& p :
         {layout_.backupInfo() + ".copy", layout_.archiveInfo(), layout_.archiveInfo() + ".copy"}) {
        std::string s = read(p);
        s[20] ^= 1;
        write(p, s);
    }
    Error e = errorOf([&] { scanRepoCipher(*repo_, bare_); });
    EXPECT_EQ(e.code(), ErrorCode::Crypto);
    EXPECT_NE(std::string(e.what()).find("no key envelope can be read"), std::string::npos)
        << e.what();
}

// archive-get takes the key from archive.info's own envelope (repo/info.h openArchiveInfo): the
// same key, the same errors for settings that do not match, and backup.info never read.
TEST_F(RepoCipherTest, ArchiveInfoAloneGivesTheKey) {
    auto key = create("pass-one");
    repo_->remove(layout_.backupInfo(), false);
    repo_->remove(layout_.backupInfo() + ".copy", false);
    auto opened = openArchiveInfo(*repo_, bare_, {"aes-256-gcm", "pass-one"});
    ASSERT_TRUE(opened.key);
    EXPECT_EQ(opened.key->id(), key->id());
    EXPECT_EQ(opened.info.current().systemId, 42u);
    auto message = [&](const CipherSettings& settings) {
        Error e = errorOf([&] { openArchiveInfo(*repo_, bare_, settings); });
        EXPECT_EQ(e.code(), ErrorCode::Crypto) << e.what();
        EXPECT_FALSE(backrest::test::has(e.what(), "wrong-pass")) << e.what();
        return std::string(e.what());
    };
    EXPECT_TRUE(backrest::test::has(message({"aes-256-gcm", "wrong-pass"}),
                                    "repo1-cipher-pass does not open the key of '" +
                                        repo_->fullPath(layout_.archiveInfo()) + "'"));
    EXPECT_TRUE(backrest::test::has(message({"aes-256-gcm", std::nullopt}),
                                    "repo1-cipher-pass is not set"));
    EXPECT_TRUE(
        backrest::test::has(message({"none", std::nullopt}), "is encrypted with aes-256-gcm"));

    // A damaged envelope or body of the main file: the .copy's serves.
    std::string stored = read(layout_.archiveInfo());
    for (size_t at : {size_t{20}, stored.size() - 5}) {
        std::string damaged = stored;
        damaged[at] ^= 1;
        write(layout_.archiveInfo(), damaged);
        EXPECT_EQ(openArchiveInfo(*repo_, bare_, {"aes-256-gcm", "pass-one"}).key->id(), key->id());
    }
    write(layout_.archiveInfo(), stored);

    // A rekey interrupted after archive.info.copy: the new passphrase opens the copy's envelope;
    // the old one still opens the main file's (the same key: see openArchiveInfo).
    std::string body = stored.substr(stored.find('\n') + 1);
    write(layout_.archiveInfo() + ".copy",
          envelopeLine(crypto::wrapKey(*key, "pass-two", 2)) + body);
    EXPECT_EQ(openArchiveInfo(*repo_, bare_, {"aes-256-gcm", "pass-two"}).key->id(), key->id());
    EXPECT_EQ(openArchiveInfo(*repo_, bare_, {"aes-256-gcm", "pass-one"}).key->id(), key->id());
    // Another key's envelope ahead of this key's body: the body does not open.
    auto stranger = crypto::RepoKey::generate();
    write(layout_.archiveInfo(), envelopeLine(crypto::wrapKey(*stranger, "pass-one", 3)) + body);
    write(layout_.archiveInfo() + ".copy",
          envelopeLine(crypto::wrapKey(*stranger, "pass-one", 3)) + body);
    EXPECT_EQ(errorOf([&] {
                  openArchiveInfo(*repo_, bare_, {"aes-256-gcm", "pass-one"});
              }).code(),
              ErrorCode::Crypto);
}

TEST_F(RepoCipherTest, RekeyKeepsBodiesAndFinishesWithEitherPassphrase) {
    create("old");
    std::string bodyBefore =
        read(layout_.archiveInfo()).substr(read(layout_.archiveInfo()).find('\n') + 1);
    EXPECT_EQ(rekeyRepo(*repo_, bare_, "old", "new"), 2u);
    EXPECT_EQ(read(layout_.archiveInfo()).substr(read(layout_.archiveInfo()).find('\n') + 1),
              bodyBefore);
    EXPECT_TRUE(openRepoKey(*repo_, bare_, {"aes-256-gcm", "new"}));
    EXPECT_EQ(errorOf([&] {
                  openRepoKey(*repo_, bare_, {"aes-256-gcm", "old"});
              }).code(),
              ErrorCode::Crypto);
    // Run again with the same pair: the new passphrase already counts, the rekey finishes.
    EXPECT_EQ(rekeyRepo(*repo_, bare_, "old", "new"), 3u);
    Error e = errorOf([&] { rekeyRepo(*repo_, bare_, "nope", "nope2"); });
    EXPECT_EQ(e.code(), ErrorCode::Crypto);
    EXPECT_NE(std::string(e.what()).find("nor does repo1-cipher-pass-new"), std::string::npos)
        << e.what();
    // A save after the rekey keeps the envelope that counts.
    Layout keyed{"main", openRepoKey(*repo_, bare_, {"aes-256-gcm", "new"})};
    saveBackupInfo(*repo_, keyed, BackupInfo{{{1, "15", 42}}, {}});
    EXPECT_EQ(readEnvelopeLine(read(layout_.backupInfo()), "b")->generation, 3u);
}

TEST_F(RepoCipherTest, SealedMetadataIsBoundToItsPiece) {
    auto key = crypto::RepoKey::generate();
    std::string sealed = sealMetadata(key, "backup/main/L/backup.manifest", "{\"a\":1}");
    EXPECT_EQ(openMetadata(key, "backup/main/L/backup.manifest", sealed, "m"), "{\"a\":1}");
    EXPECT_EQ(errorOf([&] {
                  openMetadata(key, "backup/main/OTHER/backup.manifest", sealed, "m");
              }).code(),
              ErrorCode::Crypto);
    Error plain = errorOf([&] { openMetadata(key, "x", "{\"a\":1}", "ctx"); });
    EXPECT_NE(std::string(plain.what()).find("'ctx' is not encrypted in an encrypted repository"),
              std::string::npos);
    EXPECT_EQ(sealMetadata(nullptr, "x", "plain"), "plain");
    EXPECT_EQ(openMetadata(nullptr, "x", "plain", "ctx"), "plain");
}

}  // namespace
}  // namespace backrest::repo
