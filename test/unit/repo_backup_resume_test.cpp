// Taking over an interrupted backup's stored file: verified through the stored file reader
// before it is copied (and resealed for the new label in an encrypted repository); a damaged or
// missing copy, or one that does not match its journal, is not taken over.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "crypto/repo_key.h"
#include "io/file_checksum.h"
#include "repo/backup_resume.h"
#include "repo/file_transfer.h"
#include "repo/piece.h"
#include "repo/stored_file_reader.h"
#include "storage/posix.h"
#include "test/unit/test_support.h"

namespace backrest::repo {
namespace {

namespace fs = std::filesystem;

const std::string kOld = "20261205-100000F", kNew = "20261205-110000F";
const std::string kName = "pg_data/base/1/16384";

std::shared_ptr<const crypto::RepoKey> testKey() {
    std::array<uint8_t, crypto::kRepoKeyBytes> bytes{};
    for (size_t i = 0; i < bytes.size(); i++) bytes[i] = static_cast<uint8_t>(7 + i);
    return std::make_shared<const crypto::RepoKey>(bytes);
}

class RepoBackupResume : public ::testing::TestWithParam<bool> {
  protected:
    void SetUp() override {
        std::string tmpl = fs::temp_directory_path().string() + "/repo-resume-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
        root_ = tmpl;
        fs::create_directories(root_ + "/pg");
        fs::create_directories(root_ + "/repo");
        pg_ = std::make_unique<storage::PosixStorage>(root_ + "/pg");
        repo_ = std::make_unique<storage::PosixStorage>(root_ + "/repo");
        layout_.stanza = "main";
        if (GetParam()) layout_.key = testKey();
        codec_ = RepoCodec(io::CompressType::Zst, 3).withKey(layout_.key);
        // The interrupted backup stored the file and journaled it.
        content_ = std::string(200000, 'x') + "relation bytes";
        test::writeFile(root_ + "/pg/f", content_);
        TransferOptions options;
        options.codec = codec_;
        auto stored = storeFile(*pg_, "f", *repo_, storedPath(kOld),
                                backupFilePiece(layout_, kOld, kName), options);
        ASSERT_TRUE(stored);
        from_.header = {kOld, "full", "", "zst", 2000};
        from_.files[kName] = {stored->size, stored->repoSize, 1000, stored->checksum, 0, {}};
        file_.name = kName;
        file_.size = stored->size;
        file_.mtime = 1000;
    }
    void TearDown() override { fs::remove_all(root_); }

    std::string storedPath(const std::string& label) {
        return layout_.backupFile(label, kName, ".zst");
    }
    // The new backup's copy, read back as a restore reads it.
    StoredRead readNewCopy() {
        StoredFileReader reader(*repo_, storedPath(kNew), codec_,
                                backupFilePiece(layout_, kNew, kName));
        if (!reader.open()) {
            StoredRead missing;
            missing.fault = StoredFault::Missing;
            return missing;
        }
        return reader.read(io::ChecksumType::Xxh3, {from_.files[kName].checksum, file_.size}, {},
                           4096);
    }

    std::string root_, content_;
    std::unique_ptr<storage::PosixStorage> pg_, repo_;
    Layout layout_;
    RepoCodec codec_;
    ResumableBackup from_;
    ManifestFile file_;
};

TEST_P(RepoBackupResume, AGoodCopyIsTakenOverUnderTheNewLabel) {
    ASSERT_TRUE(resumeFile(*repo_, layout_, from_, kNew, file_, 4096));
    EXPECT_EQ(file_.checksum, from_.files[kName].checksum);
    EXPECT_EQ(file_.repoSize, from_.files[kName].repoSize);
    StoredRead read = readNewCopy();
    EXPECT_TRUE(read.ok()) << static_cast<int>(read.fault);
    EXPECT_EQ(read.size, content_.size());
}

TEST_P(RepoBackupResume, ADamagedCopyIsNotTakenOverAndLeavesNothing) {
    std::string bytes = test::readFile(root_ + "/repo/" + storedPath(kOld));
    bytes[bytes.size() / 2] ^= 0x20;
    test::writeFile(root_ + "/repo/" + storedPath(kOld), bytes);
    EXPECT_FALSE(resumeFile(*repo_, layout_, from_, kNew, file_, 4096));
    EXPECT_FALSE(fs::exists(root_ + "/repo/" + storedPath(kNew)));
    EXPECT_TRUE(file_.checksum.empty());
}

TEST_P(RepoBackupResume, ACopyThatDoesNotMatchItsJournalIsNotTakenOver) {
    from_.files[kName].checksum = std::string(32, '0');
    EXPECT_FALSE(resumeFile(*repo_, layout_, from_, kNew, file_, 4096));
    EXPECT_FALSE(fs::exists(root_ + "/repo/" + storedPath(kNew)));
}

TEST_P(RepoBackupResume, AMissingCopyIsNotTakenOver) {
    fs::remove(root_ + "/repo/" + storedPath(kOld));
    EXPECT_FALSE(resumeFile(*repo_, layout_, from_, kNew, file_, 4096));
    EXPECT_FALSE(fs::exists(root_ + "/repo/" + storedPath(kNew)));
}

INSTANTIATE_TEST_SUITE_P(PlainAndEncrypted, RepoBackupResume, ::testing::Bool());

}  // namespace
}  // namespace backrest::repo
