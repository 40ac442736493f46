// Reading a data directory file once for several backups (backup --repo=all).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "command/backup/shared_read.h"
#include "common/error.h"
#include "storage/posix.h"
#include "temp_dir.h"

namespace backrest::backup {
namespace {

std::string randomBytes(size_t size, unsigned seed) {
    std::mt19937 gen(seed);
    std::string s(size, '\0');
    for (auto& c : s) c = static_cast<char>(gen());
    return s;
}

void writeFile(const std::string& path, const std::string& content) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path, std::ios::binary) << content;
}

// Reads the whole of `path` through `storage` in reads of `chunk` bytes.
std::string readThrough(storage::Storage& storage, const std::string& path, size_t chunk) {
    auto in = storage.openRead(path);
    std::string out;
    std::vector<uint8_t> buf(chunk);
    for (size_t n; (n = in->read(buf)) > 0;) out.append(reinterpret_cast<char*>(buf.data()), n);
    return out;
}

struct SharedReadTest : ::testing::Test {
    test::TempDir dir{"shared-read"};
    std::shared_ptr<storage::Storage> source = std::make_shared<storage::PosixStorage>(dir.path());
};

TEST_F(SharedReadTest, TwoReadersGetEveryByteFromOneRead) {
    std::string big = randomBytes(3 << 20, 1);
    writeFile(dir / "base/5/16384", big);
    SharedReads shared(source, 256 << 10,
                       1ull << 30);  // far smaller than the file: the readers wait
    shared.expect("base/5/16384", {0, 1});
    std::string got[2];
    std::thread other([&] { got[1] = readThrough(*shared.viewFor(1), "base/5/16384", 100000); });
    got[0] = readThrough(*shared.viewFor(0), "base/5/16384", 65536);
    other.join();
    EXPECT_EQ(got[0], big);
    EXPECT_EQ(got[1], big);
    EXPECT_EQ(shared.bytesRead(), big.size());  // once, not twice
    EXPECT_EQ(shared.bytesHanded(), 2 * big.size());
}

TEST_F(SharedReadTest, ReadersTakingFilesInOneOrderNeverWaitForEachOtherForever) {
    std::vector<std::string> content;
    for (int i = 0; i < 4; i++) {
        content.push_back(randomBytes((1 << 20) + i * 1000, 10 + i));
        writeFile(dir / ("f" + std::to_string(i)), content.back());
    }
    SharedReads shared(source, 64 << 10, 1ull << 30);
    for (int i = 0; i < 4; i++) shared.expect("f" + std::to_string(i), {0, 1, 2});
    std::vector<std::vector<std::string>> got(3);
    std::vector<std::thread> readers;
    for (int r = 0; r < 3; r++)
        readers.emplace_back([&, r] {
            auto view = shared.viewFor(r);
            for (int i = 0; i < 4; i++)
                got[r].push_back(readThrough(*view, "f" + std::to_string(i), 30000 + r * 7000));
        });
    for (auto& t : readers) t.join();
    for (int r = 0; r < 3; r++) EXPECT_EQ(got[r], content) << "reader " << r;
    uint64_t total = 0;
    for (auto& c : content) total += c.size();
    EXPECT_EQ(shared.bytesRead(), total);
}

TEST_F(SharedReadTest, AReaderThatAbandonsIsNotWaitedFor) {
    std::string big = randomBytes(2 << 20, 2);
    writeFile(dir / "f", big);
    SharedReads shared(source, 64 << 10, 1ull << 30);
    shared.expect("f", {0, 1});
    std::string got;
    std::thread reader([&] { got = readThrough(*shared.viewFor(0), "f", 65536); });
    shared.abandon(1);  // reader 1's backup failed before it started "f"
    reader.join();
    EXPECT_EQ(got, big);
    // A reader that left midway (its copy failed) holds no one back either.
    shared.expect("f", {0, 1});
    auto view1 = shared.viewFor(1);
    {
        auto in = view1->openRead("f");
        std::vector<uint8_t> buf(1000);
        ASSERT_EQ(in->read(buf), 1000u);
    }
    EXPECT_EQ(readThrough(*shared.viewFor(0), "f", 65536), big);
}

TEST_F(SharedReadTest, FilesNotExpectedAndRangesAreReadFromTheSource) {
    writeFile(dir / "PG_VERSION", "15\n");
    writeFile(dir / "f", "0123456789");
    SharedReads shared(source, 1024, 1ull << 30);
    shared.expect("f", {0, 1});
    auto view = shared.viewFor(0);
    EXPECT_EQ(storage::readAll(*view, "PG_VERSION"), "15\n");
    auto ranged = storage::openReadRange(*view, "f", {2, 3});
    std::vector<uint8_t> buf(10);
    EXPECT_EQ(ranged->read(buf), 3u);
    EXPECT_EQ(shared.bytesRead(), 0u);
    EXPECT_EQ(shared.viewFor(2)->info("f")->size, 10u);  // not an expected reader: the source
    EXPECT_EQ(readThrough(*shared.viewFor(2), "f", 4), "0123456789");
    EXPECT_EQ(shared.bytesRead(), 0u);
}

TEST_F(SharedReadTest, AVanishedFileIsMissingForEveryReader) {
    SharedReads shared(source, 1024, 1ull << 30);
    shared.expect("gone", {0, 1});
    EXPECT_EQ(shared.viewFor(0)->openRead("gone", /*ignoreMissing=*/true), nullptr);
    try {
        shared.viewFor(1)->openRead("gone");
        FAIL() << "expected FileMissing";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::FileMissing) << e.what();
        EXPECT_NE(std::string(e.what()).find("gone"), std::string::npos) << e.what();
    }
}

// A small file (bundled by some repository: each takes its bundles in its own order) is never
// waited for: the first reader reads it whole and it is kept for the others, within the budget.
TEST_F(SharedReadTest, FilesNotWaitedForAreKeptWholeWithinTheBudget) {
    std::string a = randomBytes(300000, 3), b = randomBytes(200000, 4);
    writeFile(dir / "a", a);
    writeFile(dir / "b", b);
    SharedReads shared(source, 1024, 100000);  // window far below the files, budget below a
    shared.expect("a", {0, 1}, /*mayWait=*/false);
    shared.expect("b", {0, 1}, /*mayWait=*/false);
    auto view0 = shared.viewFor(0), view1 = shared.viewFor(1);
    EXPECT_EQ(readThrough(*view0, "a", 4096), a);  // alone on this thread: no wait for reader 1
    EXPECT_EQ(shared.bytesRead(), a.size());
    EXPECT_EQ(readThrough(*view0, "b", 4096), b);  // "a" is kept, over budget: "b" is not shared
    EXPECT_EQ(shared.bytesRead(), a.size());
    EXPECT_EQ(readThrough(*view1, "b", 4096), b);
    EXPECT_EQ(readThrough(*view1, "a", 4096), a);  // from what was kept
    EXPECT_EQ(shared.bytesRead(), a.size());
    EXPECT_EQ(shared.bytesHanded(), 2 * a.size());
}

}  // namespace
}  // namespace backrest::backup
