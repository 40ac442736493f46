// BackgroundQueue (AsyncCloser's and FrameWriter's loop): every item handled once, at most
// maxPending waiting, and the first failure reaches the producer by push() and by finish().
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include "common/background_queue.h"
#include "common/error.h"
#include "test/unit/test_support.h"

namespace backrest {
namespace {

TEST(BackgroundQueue, HandlesEveryItemOnce) {
    std::atomic<int> sum{0};
    BackgroundQueue<int> queue(
        3, [&](int& item) { sum += item; }, 2);
    for (int i = 1; i <= 100; i++) queue.push(int(i));
    queue.finish();
    EXPECT_EQ(sum.load(), 5050);
}

TEST(BackgroundQueue, BlocksWhileMaxPendingWait) {
    std::atomic<bool> release{false};
    std::atomic<int> handled{0};
    BackgroundQueue<int> queue(
        1,
        [&](int&) {
            while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
            handled++;
        },
        1);
    queue.push(1);  // taken by the thread, which waits
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    queue.push(2);  // waits in the queue
    std::atomic<bool> thirdIn{false};
    std::thread producer([&] {
        queue.push(3);
        thirdIn = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_FALSE(thirdIn.load());  // one item pending already
    release = true;
    producer.join();
    queue.finish();
    EXPECT_EQ(handled.load(), 3);
}

TEST(BackgroundQueue, FirstFailureReachesPushAndFinishAndTheItemIsKept) {
    BackgroundQueue<std::unique_ptr<int>> queue(1, [](std::unique_ptr<int>& item) {
        if (*item == 2) raise(ErrorCode::FileWrite, "unable to sync file 'item {}'", *item);
    });
    queue.push(std::make_unique<int>(1));
    queue.push(std::make_unique<int>(2));
    auto e = test::errorOf([&] { queue.finish(); });
    EXPECT_EQ(e.code(), ErrorCode::FileWrite);
    EXPECT_STREQ(e.what(), "unable to sync file 'item 2'");
    auto next = std::make_unique<int>(3);
    auto again = test::errorOf([&] { queue.push(std::move(next)); });
    EXPECT_EQ(again.code(), ErrorCode::FileWrite);
    ASSERT_NE(next, nullptr);  // not taken: its producer still owns it
    EXPECT_EQ(*next, 3);
}

}  // namespace
}  // namespace backrest
