// Posix storage driver against a real filesystem: bytes, modes, times, errors, and above all
// that no partial file ever appears under a final name.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/error.h"
#include "io/buffer.h"
#include "storage/posix.h"
#include "test/unit/temp_dir.h"

namespace backrest::storage {
namespace {

namespace fs = std::filesystem;

std::span<const uint8_t> bytesOf(const std::string& s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Fresh directory per test, removed afterwards (permissions restored first so that a test
// running as a regular user can still clean up a read-only directory).
class PosixStorageTest : public ::testing::Test {
  protected:
    void SetUp() override {
        storage_ = std::make_unique<PosixStorage>(root_);
        fdsAtStart_ = openFds();
    }
    void TearDown() override {
        EXPECT_EQ(openFds(), fdsAtStart_) << "file descriptor leaked";
        std::error_code ec;
        for (auto it = fs::recursive_directory_iterator(root_, ec);
             it != fs::recursive_directory_iterator(); it.increment(ec)) {
            if (it->is_directory(ec) && !it->is_symlink(ec))
                fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
        }
    }

    Storage& s() { return *storage_; }
    std::string abs(const std::string& rel) const { return root_ + "/" + rel; }
    bool exists(const std::string& rel) const {
        struct stat st;
        return ::lstat(abs(rel).c_str(), &st) == 0;
    }
    // Temporary files of atomic writes left in the root ("<name>.<pid>.<n>.tmp").
    size_t tempCount() {
        size_t n = 0;
        for (const auto& e : s().list("", false)) n += e.name.ends_with(".tmp") ? 1 : 0;
        return n;
    }
    void put(const std::string& rel, const std::string& content) {
        std::ofstream(abs(rel), std::ios::binary) << content;
    }
    std::string get(const std::string& rel) {
        std::ifstream in(abs(rel), std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(in), {});
    }

    static size_t openFds() {
        size_t n = 0;
        for (auto it = fs::directory_iterator("/proc/self/fd"); it != fs::directory_iterator();
             ++it)
            ++n;
        return n;
    }

    backrest::test::TempDir tmp_{"storage-posix"};  // removed after TearDown restored permissions
    std::string root_ = tmp_.path();
    std::unique_ptr<PosixStorage> storage_;
    size_t fdsAtStart_ = 0;
};

// Runs fn, expects an Error with the given code whose message contains `needle`.
void expectError(const std::function<void()>& fn, ErrorCode code, const std::string& needle) {
    try {
        fn();
        ADD_FAILURE() << "no error raised";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), code) << e.display();
        EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
}

std::string pattern(size_t size) {
    std::string data(size, '\0');
    uint32_t x = 12345;
    for (auto& c : data) {
        x = x * 1103515245 + 12345;
        c = static_cast<char>(x >> 16);
    }
    return data;
}

TEST_F(PosixStorageTest, WriteReadRoundTrip) {
    for (size_t size : {size_t{0}, size_t{1}, size_t{3 * 1024 * 1024}}) {
        SCOPED_TRACE(size);
        std::string data = pattern(size);
        auto w = s().openWrite("file", {});
        for (size_t off = 0; off < size; off += 7919)  // odd chunks, not aligned to anything
            w->write(bytesOf(data.substr(off, 7919)));
        w->close();
        EXPECT_EQ(get("file"), data);
        EXPECT_EQ(tempCount(), 0u);

        auto r = s().openRead("file");
        ASSERT_NE(r, nullptr);
        EXPECT_EQ(r->path(), abs("file"));
        std::string back;
        std::vector<uint8_t> buf(4099);
        for (size_t n; (n = r->read(buf)) > 0;) back.append(reinterpret_cast<char*>(buf.data()), n);
        EXPECT_EQ(back, data);
    }
}

TEST_F(PosixStorageTest, AtomicWriteInvisibleUntilClose) {
    put("file", "old");
    auto w = s().openWrite("file", {});
    w->write(bytesOf("new content"));
    EXPECT_EQ(get("file"), "old");  // the previous version stays until close()
    EXPECT_EQ(tempCount(), 1u);     // "file.<pid>.<n>.tmp"
    auto w2 = s().openWrite("other", {});
    w2->write(bytesOf("x"));
    EXPECT_FALSE(exists("other"));
    w->close();
    w2->close();
    EXPECT_EQ(get("file"), "new content");
    EXPECT_EQ(get("other"), "x");
    EXPECT_EQ(tempCount(), 0u);
    EXPECT_EQ(tempCount(), 0u);
}

TEST_F(PosixStorageTest, AtomicWriteDestroyedWithoutCloseLeavesNothing) {
    try {
        auto w = s().openWrite("file", {});
        w->write(bytesOf(pattern(100000)));
        throw std::runtime_error("copy failed");  // as if the source broke mid-copy
    } catch (const std::runtime_error&) {
    }
    EXPECT_FALSE(exists("file"));
    EXPECT_EQ(tempCount(), 0u);
    EXPECT_TRUE(s().list("", false).empty());
}

TEST_F(PosixStorageTest, NonAtomicWriteDestroyedWithoutCloseLeavesNothing) {
    {
        WriteOptions o;
        o.atomic = false;
        auto w = s().openWrite("file", o);
        w->write(bytesOf("partial"));
        EXPECT_TRUE(exists("file"));
        EXPECT_EQ(tempCount(), 0u);
    }
    EXPECT_FALSE(exists("file"));
    EXPECT_TRUE(s().list("", false).empty());
}

TEST_F(PosixStorageTest, NonAtomicWriteCloses) {
    WriteOptions o;
    o.atomic = false;
    o.syncFile = false;
    o.syncPath = false;
    auto w = s().openWrite("file", o);
    w->write(bytesOf("abc"));
    w->close();
    EXPECT_EQ(get("file"), "abc");
}

TEST_F(PosixStorageTest, CloseTwiceIsNoOpAndWriteAfterCloseFails) {
    auto w = s().openWrite("file", {});
    w->write(bytesOf("abc"));
    w->close();
    EXPECT_NO_THROW(w->close());
    EXPECT_EQ(get("file"), "abc");
    expectError([&] { w->write(bytesOf("x")); }, ErrorCode::Assert, abs("file"));
    w.reset();
    EXPECT_EQ(get("file"), "abc");  // destroying a closed writer keeps the file
}

// syncWritten() makes the bytes so far durable without closing: the file stays invisible (atomic)
// and writable; after close it is a programming error naming the file.
TEST_F(PosixStorageTest, SyncWrittenKeepsTheFileOpen) {
    auto w = s().openWrite("file", {});
    w->write(bytesOf("abc"));
    w->syncWritten();
    EXPECT_FALSE(exists("file"));
    w->write(bytesOf("def"));
    w->syncWritten();
    w->close();
    EXPECT_EQ(get("file"), "abcdef");
    expectError([&] { w->syncWritten(); }, ErrorCode::Assert, "file");
}

TEST_F(PosixStorageTest, CloseErrorIsRaisedAndTempRemoved) {
    // The final name is a non-empty directory: rename() fails inside close().
    ASSERT_EQ(::mkdir(abs("file").c_str(), 0700), 0);
    put("file/inside", "x");
    auto w = s().openWrite("file", {});
    w->write(bytesOf("abc"));
    expectError([&] { w->close(); }, ErrorCode::FileWrite, abs("file"));
    expectError([&] { w->close(); }, ErrorCode::FileWrite, abs("file"));  // not silently ok
    w.reset();
    EXPECT_EQ(tempCount(), 0u);
    EXPECT_EQ(get("file/inside"), "x");
}

TEST_F(PosixStorageTest, ModeAndMtimeApplied) {
    for (bool atomic : {true, false}) {
        SCOPED_TRACE(atomic);
        WriteOptions o;
        o.atomic = atomic;
        o.mode = 0666;  // beyond the usual umask: the mode must still be exact
        o.mtime = 1500000000;
        std::string name = atomic ? "a" : "b";
        writeAll(s(), name, "data", o);
        struct stat st;
        ASSERT_EQ(::stat(abs(name).c_str(), &st), 0);
        EXPECT_EQ(st.st_mode & 07777, 0666u);
        EXPECT_EQ(st.st_mtim.tv_sec, 1500000000);
        auto i = s().info(name);
        ASSERT_TRUE(i);
        EXPECT_EQ(i->mode, 0666u);
        EXPECT_EQ(i->mtime, 1500000000);
        EXPECT_EQ(i->size, 4u);
    }
    WriteOptions o;
    o.mode = 0600;
    writeAll(s(), "c", "", o);
    EXPECT_EQ(s().info("c")->mode, 0600u);
}

// WriteOptions::size and ::direct (a restore's frames): the file has its final size and its
// space from the open on, aligned ranges from page-aligned memory bypass the page cache where
// the filesystem takes O_DIRECT, an unaligned tail goes through the cache, and the file reads
// back as written.
TEST_F(PosixStorageTest, DirectWritesAtOffsetsWithSpaceReserved) {
    constexpr size_t kPage = 4096, kPiece = 65536, kSize = 3 * kPiece + 1000;
    std::string expected(kSize, '\0');
    for (size_t i = 0; i < kSize; i++)
        expected[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
    WriteOptions o;
    o.atomic = false;
    o.mode = 0600;
    o.size = kSize;
    o.direct = true;
    auto w = s().openWrite("f", o);
    struct stat st;
    ASSERT_EQ(::stat(abs("f").c_str(), &st), 0);
    EXPECT_EQ(static_cast<size_t>(st.st_size), kSize);
    EXPECT_GE(static_cast<size_t>(st.st_blocks) * 512, kSize);  // reserved, not a sparse file
    auto piece = [&](size_t offset, size_t length) {
        auto buffer = std::make_unique<io::Buffer>(length);
        EXPECT_EQ(reinterpret_cast<uintptr_t>(buffer->data()) % kPage, 0u);
        buffer->append(bytesOf(expected.substr(offset, length)));
        return buffer;
    };
    // Two threads, one range each; the second range ends with 1000 bytes that cannot go direct.
    auto first = piece(0, 2 * kPiece), second = piece(2 * kPiece, kPiece + 1000);
    std::thread other([&] { w->writeAt(2 * kPiece, second->span()); });
    w->writeAt(0, first->span());
    other.join();
    w->close();
    ASSERT_EQ(::stat(abs("f").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);

    // Where this filesystem takes O_DIRECT, the aligned pages never entered the page cache
    // (looked at before anything reads the file).
    if (int probe = ::open(abs("f").c_str(), O_RDONLY | O_DIRECT); probe >= 0) {
        ::close(probe);
        int fd = ::open(abs("f").c_str(), O_RDONLY);
        ASSERT_GE(fd, 0);
        void* map = ::mmap(nullptr, kSize, PROT_READ, MAP_SHARED, fd, 0);
        ASSERT_NE(map, MAP_FAILED);
        std::vector<unsigned char> resident((kSize + kPage - 1) / kPage);
        ASSERT_EQ(::mincore(map, kSize, resident.data()), 0);
        ::munmap(map, kSize);
        ::close(fd);
        for (size_t page = 0; page < 3 * kPiece / kPage; page++)
            EXPECT_EQ(resident[page] & 1, 0)
                << "page " << page << " was written through the page cache";
    }
    EXPECT_EQ(get("f"), expected);
}

// WriteOptions::directAppend (a backup's repository files): write() in pieces of any size, from
// memory of any alignment, reads back byte for byte under the final name; whole staged MiBs
// bypass the page cache where the filesystem takes O_DIRECT, the tail goes through it. A file
// smaller than one stage, and an empty one, are written whole too.
TEST_F(PosixStorageTest, DirectAppendWritesBackByteForByte) {
    constexpr size_t kPage = 4096, kMiB = 1u << 20, kSize = 3 * kMiB + 12345;
    std::string expected(kSize, '\0');
    for (size_t i = 0; i < kSize; i++)
        expected[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
    WriteOptions o;
    o.directAppend = true;
    auto w = s().openWrite("f", o);
    // Odd pieces from odd addresses: 1, 4097, 65537, ... bytes, wrapping around.
    size_t at = 0, piece = 1;
    while (at < kSize) {
        size_t n = std::min(piece, kSize - at);
        const std::string part = expected.substr(at, n);
        w->write(bytesOf(part));
        at += n;
        piece = piece * 16 + 1;
        if (piece > 2 * kMiB) piece = 3;
    }
    EXPECT_FALSE(exists("f")) << "visible before close";
    w->close();
    struct stat st;
    ASSERT_EQ(::stat(abs("f").c_str(), &st), 0);
    EXPECT_EQ(static_cast<size_t>(st.st_size), kSize);
    if (int probe = ::open(abs("f").c_str(), O_RDONLY | O_DIRECT); probe >= 0) {
        ::close(probe);
        int fd = ::open(abs("f").c_str(), O_RDONLY);
        ASSERT_GE(fd, 0);
        void* map = ::mmap(nullptr, kSize, PROT_READ, MAP_SHARED, fd, 0);
        ASSERT_NE(map, MAP_FAILED);
        std::vector<unsigned char> resident((kSize + kPage - 1) / kPage);
        ASSERT_EQ(::mincore(map, kSize, resident.data()), 0);
        ::munmap(map, kSize);
        ::close(fd);
        for (size_t page = 0; page < 3 * kMiB / kPage; page++)
            EXPECT_EQ(resident[page] & 1, 0)
                << "page " << page << " was written through the page cache";
    }
    EXPECT_EQ(get("f"), expected);

    writeAll(s(), "small", "not a whole stage", o);
    EXPECT_EQ(get("small"), "not a whole stage");
    writeAll(s(), "empty", "", o);
    EXPECT_EQ(get("empty"), "");
}

// Destroyed without close() after whole stages went out with O_DIRECT: nothing is left under
// either name.
TEST_F(PosixStorageTest, DirectAppendUnclosedLeavesNothing) {
    WriteOptions o;
    o.directAppend = true;
    {
        auto w = s().openWrite("f", o);
        const std::string bytes(3u << 20, 'x');
        w->write(bytesOf(bytes));
    }
    EXPECT_FALSE(exists("f"));
    EXPECT_TRUE(fs::is_empty(root_));
}

TEST_F(PosixStorageTest, CreatePathCreatesNestedParents) {
    writeAll(s(), "a/b/c/file", "x");
    EXPECT_EQ(get("a/b/c/file"), "x");
    for (const char* dir : {"a", "a/b", "a/b/c"}) {
        auto i = s().info(dir);
        ASSERT_TRUE(i) << dir;
        EXPECT_EQ(i->type, FileType::Path);
        EXPECT_EQ(i->mode, 0750u) << dir;
    }
    WriteOptions o;
    o.createPath = false;
    expectError([&] { writeAll(s(), "x/y/file", "x", o); }, ErrorCode::FileOpen, abs("x/y/file"));
    EXPECT_FALSE(exists("x"));
}

TEST_F(PosixStorageTest, OpenReadMissing) {
    EXPECT_EQ(s().openRead("missing", true), nullptr);
    expectError([&] { s().openRead("missing"); }, ErrorCode::FileMissing,
                "unable to open missing file '" + abs("missing") + "' for read");
    ASSERT_EQ(::mkdir(abs("dir").c_str(), 0700), 0);
    expectError(
        [&] {
            auto r = s().openRead("dir");
            std::vector<uint8_t> buf(10);
            r->read(buf);
        },
        ErrorCode::FileRead, abs("dir"));
}

TEST_F(PosixStorageTest, InfoFileDirLinkMissing) {
    put("file", "12345");
    ASSERT_EQ(::chmod(abs("file").c_str(), 0604), 0);
    ASSERT_EQ(::mkdir(abs("dir").c_str(), 0710), 0);
    ASSERT_EQ(::chmod(abs("dir").c_str(), 0710), 0);
    ASSERT_EQ(::symlink("file", abs("link").c_str()), 0);
    ASSERT_EQ(::symlink("/nonexistent/target", abs("dangling").c_str()), 0);

    auto f = s().info("file");
    ASSERT_TRUE(f);
    EXPECT_EQ(f->name, "file");
    EXPECT_EQ(f->type, FileType::File);
    EXPECT_EQ(f->size, 5u);
    EXPECT_EQ(f->mode, 0604u);
    EXPECT_EQ(f->uid, ::getuid());
    EXPECT_EQ(f->gid, ::getgid());
    if (::getuid() == 0) {
        EXPECT_EQ(f->user, "root");
    }
    EXPECT_FALSE(f->user.empty());
    EXPECT_FALSE(f->group.empty());
    EXPECT_NEAR(static_cast<double>(f->mtime), static_cast<double>(::time(nullptr)), 60.0);

    auto d = s().info("dir");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->type, FileType::Path);
    EXPECT_EQ(d->mode, 0710u);

    auto l = s().info("link");
    ASSERT_TRUE(l);
    EXPECT_EQ(l->type, FileType::Link);
    EXPECT_EQ(l->linkDestination, "file");
    auto followed = s().info("link", true);
    ASSERT_TRUE(followed);
    EXPECT_EQ(followed->type, FileType::File);
    EXPECT_EQ(followed->size, 5u);
    EXPECT_EQ(followed->linkDestination, "");

    auto dl = s().info("dangling");
    ASSERT_TRUE(dl);
    EXPECT_EQ(dl->linkDestination, "/nonexistent/target");
    EXPECT_FALSE(s().info("dangling", true));

    EXPECT_FALSE(s().info("missing"));
    EXPECT_FALSE(s().info("file/below"));  // ENOTDIR counts as missing

    auto absolute = s().info(abs("file"));  // absolute path used as is
    ASSERT_TRUE(absolute);
    EXPECT_EQ(absolute->size, 5u);

    auto special = s().info("/dev/null", true);
    ASSERT_TRUE(special);
    EXPECT_EQ(special->type, FileType::Special);
}

TEST_F(PosixStorageTest, InfoFromManyThreads) {
    // The user/group name cache is shared by every worker thread of a backup.
    put("file", "x");
    std::vector<std::thread> threads;
    std::vector<std::string> users(8);
    for (size_t t = 0; t < users.size(); ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 200; ++i) users[t] = s().info("file")->user;
        });
    }
    for (auto& thread : threads) thread.join();
    for (const auto& user : users) EXPECT_EQ(user, users[0]);
    EXPECT_FALSE(users[0].empty());
}

TEST_F(PosixStorageTest, ListEntriesAndMissing) {
    put("a", "1");
    put("bb", "22");
    ASSERT_EQ(::mkdir(abs("dir").c_str(), 0700), 0);
    put("dir/nested", "not listed");
    ASSERT_EQ(::symlink("a", abs("ln").c_str()), 0);

    auto entries = s().list("", false);
    std::map<std::string, FileInfo> byName;
    for (auto& e : entries) byName[e.name] = e;
    ASSERT_EQ(byName.size(), 4u);
    EXPECT_EQ(entries.size(), 4u);
    EXPECT_EQ(byName["a"].type, FileType::File);
    EXPECT_EQ(byName["a"].size, 1u);
    EXPECT_EQ(byName["bb"].size, 2u);
    EXPECT_EQ(byName["dir"].type, FileType::Path);
    EXPECT_EQ(byName["ln"].type, FileType::Link);
    EXPECT_EQ(byName["ln"].linkDestination, "a");

    auto nested = s().list("dir", false);
    ASSERT_EQ(nested.size(), 1u);
    EXPECT_EQ(nested[0].name, "nested");

    EXPECT_TRUE(s().list("missing", true).empty());
    EXPECT_TRUE(s().list("missing").empty());  // default ignores a missing path
    expectError([&] { s().list("missing", false); }, ErrorCode::FileMissing, abs("missing"));
    expectError([&] { s().list("a", false); }, ErrorCode::FileOpen, abs("a"));
}

TEST_F(PosixStorageTest, RemoveFile) {
    put("file", "x");
    s().remove("file");
    EXPECT_FALSE(exists("file"));
    EXPECT_NO_THROW(s().remove("file"));
    expectError([&] { s().remove("file", true); }, ErrorCode::FileMissing, abs("file"));
    ASSERT_EQ(::mkdir(abs("dir").c_str(), 0700), 0);
    expectError([&] { s().remove("dir"); }, ErrorCode::FileWrite, abs("dir"));
}

TEST_F(PosixStorageTest, RemovePathRecursiveKeepsSymlinkTargets) {
    // The link target lives outside the tree being removed.
    ASSERT_EQ(::mkdir(abs("outside").c_str(), 0700), 0);
    put("outside/keep", "precious");
    writeAll(s(), "tree/a/b/file", "x");
    writeAll(s(), "tree/top", "y");
    ASSERT_EQ(::symlink(abs("outside").c_str(), abs("tree/a/linkdir").c_str()), 0);
    ASSERT_EQ(::symlink(abs("outside/keep").c_str(), abs("tree/linkfile").c_str()), 0);

    s().removePath("tree", true);
    EXPECT_FALSE(exists("tree"));
    EXPECT_EQ(get("outside/keep"), "precious");
    EXPECT_NO_THROW(s().removePath("tree", true));  // missing: no error
    EXPECT_NO_THROW(s().removePath("tree", false));

    // A link standing where the directory was: the link goes, the target stays.
    ASSERT_EQ(::symlink(abs("outside").c_str(), abs("pathlink").c_str()), 0);
    s().removePath("pathlink", true);
    EXPECT_FALSE(exists("pathlink"));
    EXPECT_EQ(get("outside/keep"), "precious");
}

TEST_F(PosixStorageTest, RemovePathNonRecursive) {
    ASSERT_EQ(::mkdir(abs("empty").c_str(), 0700), 0);
    s().removePath("empty", false);
    EXPECT_FALSE(exists("empty"));
    writeAll(s(), "full/file", "x");
    expectError([&] { s().removePath("full", false); }, ErrorCode::FileWrite, abs("full"));
    EXPECT_TRUE(exists("full/file"));
    put("plain", "x");
    expectError([&] { s().removePath("plain", true); }, ErrorCode::FileWrite, abs("plain"));
}

TEST_F(PosixStorageTest, PathCreateAndSync) {
    s().pathCreate("x/y/z", 0700);
    for (const char* dir : {"x", "x/y", "x/y/z"}) {
        auto i = s().info(dir);
        ASSERT_TRUE(i) << dir;
        EXPECT_EQ(i->type, FileType::Path);
        EXPECT_EQ(i->mode, 0700u);
    }
    EXPECT_NO_THROW(s().pathCreate("x/y/z", 0700));  // existing is fine
    EXPECT_NO_THROW(s().pathCreate("x/y/", 0700));
    s().pathCreate("d");  // default mode
    EXPECT_EQ(s().info("d")->mode, 0750u);
    put("file", "x");
    expectError([&] { s().pathCreate("file", 0700); }, ErrorCode::FileWrite, abs("file"));
    expectError([&] { s().pathCreate("file/sub", 0700); }, ErrorCode::FileWrite, abs("file/sub"));

    EXPECT_NO_THROW(s().pathSync("x/y"));
    EXPECT_NO_THROW(s().pathSync(""));
    expectError([&] { s().pathSync("missing"); }, ErrorCode::FileWrite, abs("missing"));
    expectError([&] { s().pathSync("file"); }, ErrorCode::FileWrite, abs("file"));
}

TEST_F(PosixStorageTest, Move) {
    put("a", "content");
    s().move("a", "b");
    EXPECT_FALSE(exists("a"));
    EXPECT_EQ(get("b"), "content");

    s().move("b", "new/parent/c");  // destination parent created
    EXPECT_EQ(get("new/parent/c"), "content");
    EXPECT_EQ(s().info("new/parent")->mode, 0750u);

    put("d", "replacement");
    s().move("d", "new/parent/c");  // replaces atomically
    EXPECT_EQ(get("new/parent/c"), "replacement");

    expectError([&] { s().move("missing", "e"); }, ErrorCode::FileMissing, abs("missing"));
    EXPECT_FALSE(exists("e"));
    ASSERT_EQ(::mkdir(abs("nonempty").c_str(), 0700), 0);
    put("nonempty/x", "x");
    put("f", "f");
    expectError([&] { s().move("f", "nonempty"); }, ErrorCode::FileWrite, abs("nonempty"));
}

TEST_F(PosixStorageTest, ReadAllWriteAll) {
    writeAll(s(), "info", "key=value\n");
    EXPECT_EQ(readAll(s(), "info"), "key=value\n");
    writeAll(s(), "empty", "");
    EXPECT_EQ(readAll(s(), "empty"), "");
    std::string big = pattern(200001);
    writeAll(s(), "big", big);
    EXPECT_EQ(readAll(s(), "big"), big);
    EXPECT_EQ(readAllIfExists(s(), "info"), std::optional<std::string>("key=value\n"));
    EXPECT_EQ(readAllIfExists(s(), "missing"), std::nullopt);
    expectError([&] { readAll(s(), "missing"); }, ErrorCode::FileMissing, abs("missing"));
    EXPECT_EQ(tempCount(), 0u);
}

TEST_F(PosixStorageTest, WriteIntoUnwritableDirectoryFails) {
    std::string target;
    if (::geteuid() == 0) {
        // root bypasses permission bits: a path below a regular file fails for everyone.
        put("file", "x");
        target = "file/x";
    } else {
        ASSERT_EQ(::mkdir(abs("ro").c_str(), 0700), 0);
        ASSERT_EQ(::chmod(abs("ro").c_str(), 0500), 0);
        target = "ro/x";
    }
    for (bool atomic : {true, false}) {
        WriteOptions o;
        o.atomic = atomic;
        try {
            writeAll(s(), target, "data", o);
            ADD_FAILURE() << "no error raised";
        } catch (const Error& e) {
            EXPECT_TRUE(e.code() == ErrorCode::FileOpen || e.code() == ErrorCode::FileWrite)
                << e.display();
            EXPECT_NE(std::string(e.what()).find(abs(target)), std::string::npos) << e.what();
        }
    }
    EXPECT_FALSE(exists(target));
}

TEST_F(PosixStorageTest, FullPathJoinsRoot) {
    EXPECT_EQ(s().fullPath("a/b"), root_ + "/a/b");
    EXPECT_EQ(s().fullPath("/abs/path"), "/abs/path");
    EXPECT_EQ(s().fullPath(""), root_);
    PosixStorage slash(root_ + "/");
    EXPECT_EQ(slash.fullPath("x"), root_ + "/x");
    writeAll(slash, "x", "via slash");
    EXPECT_EQ(get("x"), "via slash");
    writeAll(s(), abs("absfile"), "abs");  // absolute path used as is
    EXPECT_EQ(get("absfile"), "abs");
}

}  // namespace
}  // namespace backrest::storage
