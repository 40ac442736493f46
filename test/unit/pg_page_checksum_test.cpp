// Data-page checksums: known answers from PostgreSQL's own pg_checksums, and every page of a
// real PostgreSQL 15 cluster initialized with --data-checksums.
#include <gtest/gtest.h>
#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "pg/backup_exclusions.h"
#include "pg/page_checksum.h"
#include "test/unit/temp_dir.h"

namespace backrest::pg {
namespace {

namespace fs = std::filesystem;

using Page = std::vector<uint8_t>;

template <typename T>
void put(Page& page, size_t offset, T value) {
    std::memcpy(page.data() + offset, &value, sizeof value);
}

// A formatted page with deterministic contents. Its checksums below were computed by
// PostgreSQL 15's pg_checksums --check on a file holding this page at blocks 0 and 1 of
// base/1/99999 and block 0 of base/1/99999.1 ("calculated checksum A3BD but block contains 0").
Page patternPage() {
    Page page(kPageSize);
    for (size_t i = 0; i < page.size(); i++) page[i] = static_cast<uint8_t>(i * 31 + 7);
    put<uint32_t>(page, 0, 0x1);         // pd_lsn.xlogid
    put<uint32_t>(page, 4, 0x23456789);  // pd_lsn.xrecoff
    put<uint16_t>(page, 8, 0);           // pd_checksum
    put<uint16_t>(page, 10, 0);          // pd_flags
    put<uint16_t>(page, 12, 28);         // pd_lower
    put<uint16_t>(page, 14, 0x1000);     // pd_upper
    put<uint16_t>(page, 16, 8192);       // pd_special
    put<uint16_t>(page, 18, 8192 | 4);   // pd_pagesize_version
    put<uint32_t>(page, 20, 0);          // pd_prune_xid
    return page;
}

constexpr uint16_t kPatternChecksumBlock0 = 0xA3BD;
constexpr uint16_t kPatternChecksumBlock1 = 0xA3BC;
constexpr uint16_t kPatternChecksumBlock131072 = 0xA3BF;  // block 0 of segment file .1

TEST(PgPageChecksum, KnownAnswersFromPostgres) {
    Page page = patternPage();
    EXPECT_EQ(pageChecksum(page.data(), 0), kPatternChecksumBlock0);
    EXPECT_EQ(pageChecksum(page.data(), 1), kPatternChecksumBlock1);
    EXPECT_EQ(pageChecksum(page.data(), kRelationSegmentPages), kPatternChecksumBlock131072);
}

TEST(PgPageChecksum, StoredChecksumIsIgnoredAndLeftAlone) {
    Page page = patternPage();
    put<uint16_t>(page, 8, 0xBEEF);
    Page before = page;
    EXPECT_EQ(pageChecksum(page.data(), 0), kPatternChecksumBlock0);
    EXPECT_EQ(page, before);

    // pd_flags shares the checksum's 32-bit word and is covered.
    put<uint16_t>(page, 10, 0x0004);
    EXPECT_NE(pageChecksum(page.data(), 0), kPatternChecksumBlock0);
}

TEST(PgPageChecksum, AnyAlignment) {
    Page page = patternPage();
    for (size_t shift : {1, 2, 3, 5}) {
        std::vector<uint8_t> shifted(shift + kPageSize);
        std::memcpy(shifted.data() + shift, page.data(), kPageSize);
        EXPECT_EQ(pageChecksum(shifted.data() + shift, 1), kPatternChecksumBlock1) << shift;
    }
}

TEST(PgPageChecksum, EveryByteIsCovered) {
    Page page = patternPage();
    for (size_t i = 0; i < kPageSize; i++) {
        if (i == 8 || i == 9) continue;  // pd_checksum itself
        page[i] ^= 0x01;
        ASSERT_NE(pageChecksum(page.data(), 0), kPatternChecksumBlock0) << "byte " << i;
        page[i] ^= 0x01;
    }
}

TEST(PgPageChecksum, HeaderView) {
    Page page = patternPage();
    put<uint16_t>(page, 8, kPatternChecksumBlock0);
    EXPECT_FALSE(isNewPage(page.data()));
    EXPECT_TRUE(isPageValid(page.data(), 0));
    EXPECT_FALSE(isPageValid(page.data(), 1));

    put<uint16_t>(page, 10, 0x0005);
    PageHeaderView header(page.data());
    EXPECT_EQ(header.lsn(), 0x0000000123456789ULL);
    EXPECT_EQ(header.checksum(), kPatternChecksumBlock0);
    EXPECT_EQ(header.flags(), 0x0005);
    EXPECT_EQ(header.lower(), 28);
    EXPECT_EQ(header.upper(), 0x1000);
    EXPECT_EQ(header.special(), 8192);
    EXPECT_FALSE(isPageValid(page.data(), 0));  // pd_flags is covered by the checksum
}

TEST(PgPageChecksum, NewPages) {
    Page zero(kPageSize, 0);
    EXPECT_TRUE(isNewPage(zero.data()));
    EXPECT_TRUE(isAllZeroPage(zero.data()));
    EXPECT_TRUE(isPageValid(zero.data(), 7));

    for (size_t at : {0, 9, 13, 8191}) {
        Page dirty = zero;
        dirty[at] = 1;
        EXPECT_TRUE(isNewPage(dirty.data())) << at;
        EXPECT_FALSE(isAllZeroPage(dirty.data())) << at;
        EXPECT_FALSE(isPageValid(dirty.data(), 7)) << at;
    }

    // PostgreSQL never checksums a page with pd_upper == 0, so even a "matching" checksum
    // does not make a non-zero one valid.
    Page pattern = patternPage();
    put<uint16_t>(pattern, 14, 0);
    put<uint16_t>(pattern, 8, pageChecksum(pattern.data(), 3));
    EXPECT_TRUE(isNewPage(pattern.data()));
    EXPECT_FALSE(isPageValid(pattern.data(), 3));
}

// A data directory made by PostgreSQL 15's initdb --data-checksums, never started; one per
// test program, removed at exit.
class PgPageChecksumReal : public ::testing::Test {
  protected:
    static constexpr const char* kInitdb = "/usr/lib/postgresql/15/bin/initdb";

    static void SetUpTestSuite() {
        if (!fs::exists(kInitdb)) {
            skipReason_ = std::string("no PostgreSQL 15 initdb at ") + kInitdb;
            return;
        }
        if (::geteuid() != 0) {
            skipReason_ = "not root: initdb is run as postgres through runuser";
            return;
        }
        const passwd* pg = ::getpwnam("postgres");
        if (pg == nullptr) {
            skipReason_ = "no postgres user";
            return;
        }
        try {
            tmp_ = std::make_unique<backrest::test::TempDir>("pg-page-checksum");
        } catch (const std::exception& e) {
            setupError_ = e.what();
            return;
        }
        root_ = tmp_->path();
        if (::chown(root_.c_str(), pg->pw_uid, pg->pw_gid) != 0) {
            setupError_ = "cannot give " + root_ + " to postgres";
            return;
        }
        std::string cmd = "cd " + root_ + " && runuser -u postgres -- " + kInitdb + " -D " + root_ +
                          "/data --data-checksums -A trust -N --no-locale -E UTF8 > " + root_ +
                          "/initdb.log 2>&1";
        if (std::system(cmd.c_str()) != 0) {
            std::ifstream log(root_ + "/initdb.log");
            setupError_ = "initdb failed: " + std::string(std::istreambuf_iterator<char>(log), {});
        }
    }
    static void TearDownTestSuite() { tmp_.reset(); }

    void SetUp() override {
        if (!skipReason_.empty()) GTEST_SKIP() << skipReason_;
        ASSERT_TRUE(setupError_.empty()) << setupError_;
    }

    static std::string dataDir() { return root_ + "/data"; }

    static std::vector<uint8_t> readFile(const fs::path& path) {
        std::ifstream in(path, std::ios::binary);
        return {std::istreambuf_iterator<char>(in), {}};
    }

    static inline std::unique_ptr<backrest::test::TempDir> tmp_;  // one per test program
    static inline std::string root_, skipReason_, setupError_;
};

TEST_F(PgPageChecksumReal, EveryPageMatchesPostgres) {
    std::vector<fs::path> files;
    for (const auto& dir : fs::recursive_directory_iterator(dataDir() + "/base"))
        if (dir.is_regular_file()) files.push_back(dir.path());
    for (const auto& dir : fs::directory_iterator(dataDir() + "/global"))
        if (dir.is_regular_file()) files.push_back(dir.path());

    uint64_t checked = 0, fresh = 0, mismatched = 0;
    for (const auto& path : files) {
        std::string name = path.filename().string();
        // A fresh cluster has no segment files past the first: block number = page index.
        if (relfilenodeOf(name).empty() || name.find('.') != std::string::npos) continue;
        std::vector<uint8_t> bytes = readFile(path);
        ASSERT_EQ(bytes.size() % kPageSize, 0u) << path;
        for (size_t block = 0; block * kPageSize < bytes.size(); block++) {
            const uint8_t* page = bytes.data() + block * kPageSize;
            if (isNewPage(page)) {
                EXPECT_TRUE(isAllZeroPage(page)) << path << " block " << block;
                fresh++;
                continue;
            }
            uint16_t computed = pageChecksum(page, static_cast<uint32_t>(block));
            uint16_t stored = PageHeaderView(page).checksum();
            if (computed != stored && ++mismatched <= 5)
                ADD_FAILURE() << path << " block " << block << ": computed " << std::hex << computed
                              << ", stored " << stored;
            EXPECT_EQ(isPageValid(page, static_cast<uint32_t>(block)), computed == stored);
            checked++;
        }
    }
    EXPECT_EQ(mismatched, 0u);
    // initdb writes some 2800 pages; far fewer means the walk above missed the catalogs.
    EXPECT_GT(checked, 1000u) << "new pages: " << fresh;
}

TEST_F(PgPageChecksumReal, FlippedByteChangesChecksum) {
    std::vector<uint8_t> bytes = readFile(dataDir() + "/global/1262");  // pg_database
    ASSERT_GE(bytes.size(), kPageSize);
    Page page(bytes.begin(), bytes.begin() + kPageSize);
    ASSERT_FALSE(isNewPage(page.data()));
    uint16_t stored = PageHeaderView(page.data()).checksum();
    ASSERT_EQ(pageChecksum(page.data(), 0), stored);
    ASSERT_TRUE(isPageValid(page.data(), 0));

    for (size_t at : {0, 5, 10, 12, 24, 100, 4096, 8191}) {
        Page flipped = page;
        flipped[at] ^= 0x20;
        EXPECT_NE(pageChecksum(flipped.data(), 0), stored) << "byte " << at;
        EXPECT_FALSE(isPageValid(flipped.data(), 0)) << "byte " << at;
    }
    // The same bytes at another block number (a transposed page) do not verify either.
    EXPECT_NE(pageChecksum(page.data(), 1), stored);
    EXPECT_NE(pageChecksum(page.data(), kRelationSegmentPages), stored);
}

}  // namespace
}  // namespace backrest::pg
