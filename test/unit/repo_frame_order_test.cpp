// Whose turn it is among a framed file's frames: frames done in any order are checksummed in file
// order, parked or waited for, and a frame out of turn, handed over twice or missing is an
// AssertError naming it.
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/error.h"
#include "io/file_checksum.h"
#include "repo/frame_order.h"
#include "test/unit/test_support.h"

namespace backrest::repo {
namespace {

using test::has;

constexpr size_t kFrame = 1000;

// Not periodic: frames swapped would change the checksum.
std::string wholeFile(size_t frames) {
    std::string s;
    for (size_t i = 0; s.size() < frames * kFrame - kFrame / 2; i++) s += std::to_string(i * 7919);
    return s.substr(0, frames * kFrame - kFrame / 2);  // the last frame is short
}

std::span<const uint8_t> frameOf(const std::string& whole, size_t k) {
    std::string_view v = std::string_view(whole).substr(k * kFrame, kFrame);
    return {reinterpret_cast<const uint8_t*>(v.data()), v.size()};
}

std::unique_ptr<io::Buffer> bufferOf(const std::string& whole, size_t k) {
    auto buffer = std::make_unique<io::Buffer>();
    buffer->append(frameOf(whole, k));
    return buffer;
}

StoredExpectation expectationOf(const std::string& whole) {
    return {io::checksumHex(io::ChecksumType::Sha256, whole), whole.size()};
}

TEST(RepoFrameOrder, FramesParkedOutOfOrderAreChecksummedInFileOrder) {
    std::string whole = wholeFile(4);
    FrameOrder order(4, io::ChecksumType::Sha256, "file 'base/1/2' of backup F");
    order.park(2, bufferOf(whole, 2));
    order.park(3, bufferOf(whole, 3));
    EXPECT_EQ(order.takeTurn(), nullptr);  // frame 0 is not done: 2 and 3 wait
    order.park(1, bufferOf(whole, 1));
    EXPECT_EQ(order.takeTurn(), nullptr);
    EXPECT_TRUE(order.isTurn(0));
    order.park(0, bufferOf(whole, 0));

    std::string seen;
    while (auto raw = order.takeTurn()) {
        EXPECT_EQ(order.takeTurn(), nullptr);  // one thread holds the turn
        seen.append(reinterpret_cast<const char*>(raw->data()), raw->size());
        order.addTaken(raw->span());
        order.passTurn();
    }
    EXPECT_EQ(seen, whole);
    EXPECT_TRUE(order.complete());
    EXPECT_FALSE(order.hasParked());
    StoredRead read = order.finish(expectationOf(whole));
    EXPECT_TRUE(read.ok());
    EXPECT_EQ(read.size, whole.size());
    EXPECT_EQ(read.checksum, expectationOf(whole).checksum);
}

TEST(RepoFrameOrder, ThreadsWaitingForTheirTurnChecksumInFileOrder) {
    const size_t frames = 6;
    std::string whole = wholeFile(frames);
    FrameOrder order(frames, io::ChecksumType::Sha256, "'repo/file'");
    std::mutex mutex;
    std::condition_variable turn;
    std::vector<size_t> added;
    std::vector<std::thread> threads;
    // Started last frame first: every one but frame 0 has to wait.
    for (size_t k = frames; k-- > 0;)
        threads.emplace_back([&, k] {
            std::unique_lock lock(mutex);
            turn.wait(lock, [&] { return order.isTurn(k); });
            order.add(k, frameOf(whole, k));
            added.push_back(k);
            turn.notify_all();
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(added, (std::vector<size_t>{0, 1, 2, 3, 4, 5}));
    StoredRead read = order.finish(expectationOf(whole));
    EXPECT_TRUE(read.ok());
    EXPECT_EQ(read.checksum, expectationOf(whole).checksum);
}

TEST(RepoFrameOrder, FramesAddedInAnotherOrderDoNotMatch) {
    std::string whole = wholeFile(2);
    FrameOrder order(2, io::ChecksumType::Sha256, "'repo/file'");
    // A frame's bytes at the wrong turn: the turn itself cannot catch it, the checksum does.
    order.add(0, frameOf(whole, 1));
    order.add(1, frameOf(whole, 0));
    StoredRead read = order.finish(expectationOf(whole));
    EXPECT_EQ(read.fault, StoredFault::Mismatch);
    EXPECT_EQ(read.size, whole.size());
}

TEST(RepoFrameOrder, AMissingFrameIsNamed) {
    std::string whole = wholeFile(3);
    FrameOrder order(3, io::ChecksumType::Sha256, "file 'base/1/2' of backup F");
    order.add(0, frameOf(whole, 0));
    order.park(2, bufferOf(whole, 2));
    EXPECT_EQ(order.takeTurn(), nullptr);
    EXPECT_FALSE(order.complete());
    try {
        order.finish(expectationOf(whole));
        FAIL() << "finish() before every frame was checksummed";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::Assert);
        EXPECT_TRUE(has(e.what(), "file 'base/1/2' of backup F: frame 1 of 3 is missing"))
            << e.what();
    }
}

TEST(RepoFrameOrder, AFrameOutOfTurnOrTwiceIsNamed) {
    std::string whole = wholeFile(3);
    FrameOrder order(3, io::ChecksumType::Sha256, "'repo/file'");
    auto expectNamed = [](auto&& call, const std::string& message) {
        try {
            call();
            FAIL() << "no error for: " << message;
        } catch (const Error& e) {
            EXPECT_EQ(e.code(), ErrorCode::Assert);
            EXPECT_TRUE(has(e.what(), message)) << e.what();
        }
    };
    expectNamed([&] { order.add(1, frameOf(whole, 1)); },
                "'repo/file': frame 1 of 3 was checksummed out of its turn");
    order.add(0, frameOf(whole, 0));
    expectNamed([&] { order.park(0, bufferOf(whole, 0)); }, "frame 0 of 3 was handed over twice");
    order.park(2, bufferOf(whole, 2));
    expectNamed([&] { order.park(2, bufferOf(whole, 2)); }, "frame 2 of 3 was handed over twice");
    expectNamed([&] { order.park(3, bufferOf(whole, 0)); }, "frame 3 of 3 does not exist");
    order.park(1, bufferOf(whole, 1));
    auto taken = order.takeTurn();
    ASSERT_NE(taken, nullptr);
    expectNamed([&] { order.park(1, bufferOf(whole, 1)); }, "frame 1 of 3 was handed over twice");
    order.addTaken(taken->span());
    order.passTurn();
    expectNamed([&] { order.passTurn(); }, "frame 2 of 3 passed a turn it did not take");
    auto last = order.takeTurn();
    ASSERT_NE(last, nullptr);
    order.addTaken(last->span());
    order.passTurn();
    EXPECT_TRUE(order.finish(expectationOf(whole)).ok());
    expectNamed([&] { order.finish(expectationOf(whole)); },
                "'repo/file': checksum of its frames taken twice");
}

TEST(RepoFrameOrder, AfterAFailureParkedBuffersAreGivenBack) {
    std::string whole = wholeFile(4);
    FrameOrder order(4, io::ChecksumType::Sha256, "'repo/file'");
    order.park(3, bufferOf(whole, 3));
    order.park(1, bufferOf(whole, 1));
    auto buffers = order.dropParked();
    ASSERT_EQ(buffers.size(), 2u);
    EXPECT_EQ(buffers[0]->size(), kFrame);      // frame 1
    EXPECT_EQ(buffers[1]->size(), kFrame / 2);  // frame 3, the short last one
    EXPECT_FALSE(order.hasParked());
    order.park(0, bufferOf(whole, 0));
    auto first = order.takeTurn();
    ASSERT_NE(first, nullptr);
    order.addTaken(first->span());
    order.passTurn();
    EXPECT_EQ(order.takeTurn(), nullptr);  // frame 1 was dropped, not kept
}

}  // namespace
}  // namespace backrest::repo
