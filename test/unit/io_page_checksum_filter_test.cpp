// PageChecksumFilter over real PostgreSQL 15 relation files streamed in odd block sizes:
// clean, corrupted, changed after the backup start, zeroed, cut short, in another segment.
#include <gtest/gtest.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "io/filter_chain.h"
#include "io/page_checksum_filter.h"
#include "pg/page_checksum.h"
#include "test/unit/temp_dir.h"

namespace backrest::io {
namespace {

namespace fs = std::filesystem;
using pg::kPageSize;
using Bytes = std::vector<uint8_t>;

// Far beyond any LSN initdb reaches (about 0/1500000): no page of a fresh cluster is skipped.
constexpr uint64_t kBackupStartLsn = 0x0000000100000000ULL;
constexpr size_t kChunkSizes[] = {1, 100, 8191, 8193, 1 << 20};

struct Result {
    std::vector<uint32_t> failedPages;
    uint64_t failedCount = 0;
    uint64_t pagesChecked = 0;
    uint64_t pagesSkippedLsn = 0;
    bool partialTail = false;
};

// Streams `bytes` through a chain holding only the filter, `chunk` bytes per write.
Result run(const Bytes& bytes, uint32_t segment, size_t chunk,
           uint64_t startLsn = kBackupStartLsn) {
    Bytes passed;
    FilterChain chain(
        [&](std::span<const uint8_t> out) { passed.insert(passed.end(), out.begin(), out.end()); });
    auto& filter = chain.add<PageChecksumFilter>(segment, startLsn);
    for (size_t at = 0; at < bytes.size(); at += chunk)
        chain.write(std::span(bytes).subspan(at, std::min(chunk, bytes.size() - at)));
    chain.finish();
    EXPECT_EQ(passed, bytes) << "an observer must not change the stream";
    return {filter.failedPages(), filter.failedCount(), filter.pagesChecked(),
            filter.pagesSkippedLsn(), filter.partialTail()};
}

template <typename T>
void put(Bytes& bytes, size_t offset, T value) {
    std::memcpy(bytes.data() + offset, &value, sizeof value);
}

void setLsn(Bytes& bytes, size_t page, uint64_t lsn) {
    put<uint32_t>(bytes, page * kPageSize, static_cast<uint32_t>(lsn >> 32));
    put<uint32_t>(bytes, page * kPageSize + 4, static_cast<uint32_t>(lsn));
}

// `count` formatted pages of varied contents with correct checksums for `segment`.
Bytes syntheticFile(size_t count, uint32_t segment) {
    Bytes bytes(count * kPageSize);
    for (size_t i = 0; i < bytes.size(); i++) bytes[i] = static_cast<uint8_t>(i * 131 + i / 7);
    for (size_t page = 0; page < count; page++) {
        setLsn(bytes, page, 0x1500000 + page);
        put<uint16_t>(bytes, page * kPageSize + 10, 0);     // pd_flags
        put<uint16_t>(bytes, page * kPageSize + 12, 40);    // pd_lower
        put<uint16_t>(bytes, page * kPageSize + 14, 4000);  // pd_upper
        uint32_t block = segment * pg::kRelationSegmentPages + static_cast<uint32_t>(page);
        put<uint16_t>(bytes, page * kPageSize + 8,
                      pg::pageChecksum(bytes.data() + page * kPageSize, block));
    }
    return bytes;
}

TEST(PageChecksumFilter, SyntheticFileVerifiesOnlyInItsSegment) {
    Bytes segment1 = syntheticFile(5, 1);
    Result in1 = run(segment1, 1, 8193);
    EXPECT_EQ(in1.failedCount, 0u);
    EXPECT_EQ(in1.pagesChecked, 5u);
    Result in0 = run(segment1, 0, 8193);
    EXPECT_EQ(in0.failedPages, (std::vector<uint32_t>{0, 1, 2, 3, 4}));
}

TEST(PageChecksumFilter, FailedListIsCapped) {
    Bytes bytes = syntheticFile(1500, 0);
    for (size_t page = 0; page < 1500; page++) bytes[page * kPageSize + 5000] ^= 0xFF;
    Result r = run(bytes, 0, 1 << 20);
    EXPECT_EQ(r.failedCount, 1500u);
    ASSERT_EQ(r.failedPages.size(), PageChecksumFilter::kMaxFailedPages);
    for (uint32_t i = 0; i < r.failedPages.size(); i++) ASSERT_EQ(r.failedPages[i], i);
    EXPECT_EQ(r.pagesChecked, 1500u);
}

TEST(PageChecksumFilter, EmptyAndShortFiles) {
    Result empty = run({}, 0, 100);
    EXPECT_EQ(empty.pagesChecked, 0u);
    EXPECT_FALSE(empty.partialTail);

    Result shortFile = run(Bytes(100, 0x7F), 0, 7);
    EXPECT_EQ(shortFile.pagesChecked, 0u);
    EXPECT_EQ(shortFile.failedCount, 0u);
    EXPECT_TRUE(shortFile.partialTail);
}

// A data directory made by PostgreSQL 15's initdb --data-checksums, never started; one per
// test program, removed at exit. The tests use its largest main fork in template1.
class PageChecksumFilterReal : public ::testing::Test {
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
            tmp_ = std::make_unique<backrest::test::TempDir>("page-checksum-filter");
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
            return;
        }

        fs::path largest;
        for (const auto& entry : fs::directory_iterator(root_ + "/data/base/1")) {
            std::string name = entry.path().filename().string();
            if (name.empty() ||
                !std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; }))
                continue;
            if (largest.empty() || entry.file_size() > fs::file_size(largest))
                largest = entry.path();
        }
        relation_ = largest;
        std::ifstream in(largest, std::ios::binary);
        file_.assign(std::istreambuf_iterator<char>(in), {});
    }
    static void TearDownTestSuite() { tmp_.reset(); }

    void SetUp() override {
        if (!skipReason_.empty()) GTEST_SKIP() << skipReason_;
        ASSERT_TRUE(setupError_.empty()) << setupError_;
        // Preconditions the tests below rely on: several whole, formatted, clean pages.
        ASSERT_GE(file_.size(), 8 * kPageSize) << relation_;
        ASSERT_EQ(file_.size() % kPageSize, 0u) << relation_;
        for (size_t page = 0; page < pages(); page++) {
            const uint8_t* p = file_.data() + page * kPageSize;
            ASSERT_FALSE(pg::isNewPage(p)) << relation_ << " page " << page;
            ASSERT_LT(pg::PageHeaderView(p).lsn(), kBackupStartLsn)
                << relation_ << " page " << page;
        }
    }

    static size_t pages() { return file_.size() / kPageSize; }

    static inline std::unique_ptr<backrest::test::TempDir> tmp_;  // one per test program
    static inline std::string root_, skipReason_, setupError_;
    static inline fs::path relation_;
    static inline Bytes file_;
};

TEST_F(PageChecksumFilterReal, CleanFileInAnyBlockSize) {
    for (size_t chunk : kChunkSizes) {
        SCOPED_TRACE(chunk);
        Result r = run(file_, 0, chunk);
        EXPECT_EQ(r.failedCount, 0u);
        EXPECT_TRUE(r.failedPages.empty());
        EXPECT_EQ(r.pagesChecked, file_.size() / kPageSize);
        EXPECT_EQ(r.pagesSkippedLsn, 0u);
        EXPECT_FALSE(r.partialTail);
    }
}

TEST_F(PageChecksumFilterReal, FlippedByteFailsItsPage) {
    Bytes bytes = file_;
    bytes[2 * kPageSize + 4321] ^= 0x01;
    for (size_t chunk : kChunkSizes) {
        SCOPED_TRACE(chunk);
        Result r = run(bytes, 0, chunk);
        EXPECT_EQ(r.failedPages, std::vector<uint32_t>{2});
        EXPECT_EQ(r.failedCount, 1u);
        EXPECT_EQ(r.pagesChecked, pages());
    }
}

TEST_F(PageChecksumFilterReal, PageChangedAfterBackupStartIsSkipped) {
    Bytes bytes = file_;
    // Page 2: written at the backup start, and torn (wrong checksum): WAL replay rewrites it.
    setLsn(bytes, 2, kBackupStartLsn);
    bytes[2 * kPageSize + 4321] ^= 0x01;
    // Page 5: last written just before the backup start; its bad checksum is corruption.
    setLsn(bytes, 5, kBackupStartLsn - 1);
    bytes[5 * kPageSize + 4321] ^= 0x01;
    // Page 6: far later, and the checksum is right for what is stored: skipped all the same.
    setLsn(bytes, 6, kBackupStartLsn + 0x123456);
    put<uint16_t>(bytes, 6 * kPageSize + 8, pg::pageChecksum(bytes.data() + 6 * kPageSize, 6));

    for (size_t chunk : kChunkSizes) {
        SCOPED_TRACE(chunk);
        Result r = run(bytes, 0, chunk);
        EXPECT_EQ(r.failedPages, std::vector<uint32_t>{5});
        EXPECT_EQ(r.pagesSkippedLsn, 2u);
        EXPECT_EQ(r.pagesChecked, pages());
    }
    // With the backup started later still, page 2 is judged, and fails.
    Result later = run(bytes, 0, 8191, kBackupStartLsn + 1);
    EXPECT_EQ(later.failedPages, (std::vector<uint32_t>{2, 5}));
    EXPECT_EQ(later.pagesSkippedLsn, 1u);
}

TEST_F(PageChecksumFilterReal, NewPages) {
    Bytes bytes = file_;
    // Page 3: all zero, as a relation extension not yet written leaves it: valid.
    std::fill(bytes.begin() + 3 * kPageSize, bytes.begin() + 4 * kPageSize, 0);
    // Page 4: pd_upper zero but not all zero: PostgreSQL would reject it.
    std::fill(bytes.begin() + 4 * kPageSize, bytes.begin() + 5 * kPageSize, 0);
    bytes[4 * kPageSize + 7000] = 1;
    for (size_t chunk : kChunkSizes) {
        SCOPED_TRACE(chunk);
        Result r = run(bytes, 0, chunk);
        EXPECT_EQ(r.failedPages, std::vector<uint32_t>{4});
        EXPECT_EQ(r.pagesChecked, pages());
    }
}

TEST_F(PageChecksumFilterReal, SegmentNumberShiftsBlockNumbers) {
    // The same bytes as the second 1 GiB segment: every block number is off by 131072.
    Result r = run(file_, 1, 8193);
    EXPECT_EQ(r.failedCount, pages());
    ASSERT_EQ(r.failedPages.size(), pages());
    for (uint32_t i = 0; i < r.failedPages.size(); i++) EXPECT_EQ(r.failedPages[i], i);
}

TEST_F(PageChecksumFilterReal, PartialTailIsReportedNotJudged) {
    Bytes bytes = file_;
    bytes.resize(bytes.size() + 4000, 0xAB);  // a page being written as the file was read
    for (size_t chunk : kChunkSizes) {
        SCOPED_TRACE(chunk);
        Result r = run(bytes, 0, chunk);
        EXPECT_TRUE(r.partialTail);
        EXPECT_EQ(r.failedCount, 0u);
        EXPECT_EQ(r.pagesChecked, pages());
    }
    // Cut inside the last page instead.
    bytes.resize(file_.size() - 1);
    Result cut = run(bytes, 0, 100);
    EXPECT_TRUE(cut.partialTail);
    EXPECT_EQ(cut.pagesChecked, pages() - 1);
    EXPECT_EQ(cut.failedCount, 0u);
}

TEST(PageChecksumFilter, IsRelationFile) {
    struct Case {
        const char* name;
        bool relation;
        uint32_t segment;
    };
    const Case cases[] = {
        {"pg_data/base/1/1259", true, 0},
        {"pg_data/base/16384/16385.1", true, 1},
        {"pg_data/base/16384/16385.27", true, 27},
        {"pg_data/base/16384/16385_fsm", true, 0},
        {"pg_data/base/16384/16385_vm", true, 0},
        {"pg_data/base/16384/16385_init", true, 0},
        {"pg_data/base/16384/16385_fsm.2", true, 2},
        {"pg_data/base/16384/16385_init.3", true, 3},
        {"pg_data/global/1262", true, 0},
        {"pg_data/global/1262_vm", true, 0},
        {"base/1/1259", true, 0},
        {"pg_tblspc/16387/PG_15_202209061/16384/16390", true, 0},
        {"pg_tblspc/16387/PG_15_202209061/16384/16390.4", true, 4},
        {"pg_tblspc/16387/PG_15_202209061/16384/16390_fsm", true, 0},

        {"pg_data/global/pg_control", false, 0},
        {"pg_data/global/pg_filenode.map", false, 0},
        {"pg_data/global/pg_internal.init", false, 0},
        {"pg_data/base/1/pg_filenode.map", false, 0},
        {"pg_data/base/1/pg_internal.init", false, 0},
        {"pg_data/base/1/PG_VERSION", false, 0},
        {"pg_data/base/1/t3_16400", false, 0},
        {"pg_data/base/1/t3_16400.1", false, 0},
        {"pg_data/base/pgsql_tmp/pgsql_tmp1234.0", false, 0},
        {"pg_data/base/1/16385.", false, 0},
        {"pg_data/base/1/16385.x", false, 0},
        {"pg_data/base/1/16385.1.2", false, 0},
        {"pg_data/base/1/16385.99999999999", false, 0},
        {"pg_data/base/1/16385_fsm_vm", false, 0},
        {"pg_data/base/1/16385_main", false, 0},
        {"pg_data/base/1/16385x", false, 0},
        {"pg_data/base/1/sub/16385", false, 0},
        {"pg_data/base/1", false, 0},
        {"pg_data/base/x/16385", false, 0},
        {"pg_data/16385", false, 0},
        {"pg_data/pg_xact/0000", false, 0},
        {"pg_data/pg_multixact/offsets/0000", false, 0},
        {"pg_data/pg_wal/000000010000000000000001", false, 0},
        {"pg_data/PG_VERSION", false, 0},
        {"pg_tblspc/16387/PG_15_202209061/16390", false, 0},
        {"pg_tblspc/16387/PG_15_202209061/16384/pg_filenode.map", false, 0},
        {"pg_tblspc/16387/other/16384/16390", false, 0},
        {"pg_tblspc/x/PG_15_202209061/16384/16390", false, 0},
        {"", false, 0},
    };
    for (const Case& c : cases) {
        uint32_t segment = 12345;
        EXPECT_EQ(isRelationFile(c.name, &segment), c.relation) << c.name;
        if (c.relation) {
            EXPECT_EQ(segment, c.segment) << c.name;
        }
    }
    EXPECT_TRUE(isRelationFile("pg_data/base/1/1259.2", nullptr));
}

}  // namespace
}  // namespace backrest::io
