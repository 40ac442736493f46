// FilterChain plumbing: pass-through, stage/finish ordering, bounded output, misuse errors.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/error.h"
#include "io/filter_chain.h"
#include "io/sha256.h"
#include "io/size.h"

namespace backrest::io {
namespace {

std::span<const uint8_t> bytesOf(std::string_view text) {
    return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

// Holds all input back and emits it reversed at finish, then appends `trailer`.
class ReverseFilter : public Filter {
  public:
    explicit ReverseFilter(std::string trailer) : trailer_(std::move(trailer)) {}
    bool transforms() const override { return true; }
    void process(std::span<const uint8_t> in, Buffer&) override {
        held_.insert(held_.end(), in.begin(), in.end());
    }
    void finish(Buffer& out) override {
        out.append(std::vector<uint8_t>(held_.rbegin(), held_.rend()));
        out.append(bytesOf(trailer_));
    }

  private:
    std::vector<uint8_t> held_;
    std::string trailer_;
};

// Emits each input byte `factor` times in one process() call (default processSome).
class RepeatFilter : public Filter {
  public:
    explicit RepeatFilter(size_t factor) : factor_(factor) {}
    bool transforms() const override { return true; }
    void process(std::span<const uint8_t> in, Buffer& out) override {
        for (uint8_t byte : in) {
            uint8_t* at = out.ensureFree(factor_);
            std::fill(at, at + factor_, byte);
            out.commit(factor_);
        }
    }

  private:
    size_t factor_;
};

// Records what it sees (an observer).
class RecordFilter : public Filter {
  public:
    bool transforms() const override { return false; }
    void process(std::span<const uint8_t> in, Buffer&) override {
        seen.append(in.begin(), in.end());
    }
    void finish(Buffer&) override { finishedWith = seen; }
    std::string seen;
    std::string finishedWith = "<not finished>";
};

TEST(IoFilterChainTest, ObserverOnlyChainPassesSameBytesUnchanged) {
    const std::string input = "0123456789abcdefghijklmnopqrstuvwxyz";
    std::string received;
    std::vector<const uint8_t*> pointers;
    FilterChain chain([&](std::span<const uint8_t> bytes) {
        received.append(bytes.begin(), bytes.end());
        pointers.push_back(bytes.data());
    });
    auto& sha = chain.add<Sha256Filter>();
    auto& size = chain.add<SizeFilter>();
    auto data = bytesOf(input);
    chain.write(data.subspan(0, 10));
    chain.write(data.subspan(10));
    chain.finish();

    EXPECT_EQ(received, input);
    // No copy: the sink got the caller's own memory.
    ASSERT_EQ(pointers.size(), 2u);
    EXPECT_EQ(pointers[0], data.data());
    EXPECT_EQ(pointers[1], data.data() + 10);
    EXPECT_EQ(size.bytes(), input.size());
    EXPECT_EQ(sha.hex(), sha256Hex(input));
}

TEST(IoFilterChainTest, EmptyChainAndNullFilterPassThrough) {
    std::string received;
    FilterChain chain([&](std::span<const uint8_t> b) { received.append(b.begin(), b.end()); });
    chain.push(nullptr);
    chain.write(bytesOf("abc"));
    chain.finish();
    EXPECT_EQ(received, "abc");
}

TEST(IoFilterChainTest, WriteAfterFinishThrowsAssert) {
    FilterChain chain([](std::span<const uint8_t>) {});
    chain.add<SizeFilter>();
    chain.write(bytesOf("x"));
    chain.finish();
    try {
        chain.write(bytesOf("y"));
        FAIL() << "write after finish did not throw";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::Assert);
    }
    EXPECT_THROW(chain.finish(), Error);
}

TEST(IoFilterChainTest, SinkNeverGetsEmptySpans) {
    size_t calls = 0;
    size_t empties = 0;
    FilterChain chain([&](std::span<const uint8_t> b) {
        ++calls;
        if (b.empty()) ++empties;
    });
    chain.add<ReverseFilter>("");  // produces nothing until finish
    chain.write({});
    chain.write(bytesOf("abc"));
    EXPECT_EQ(calls, 0u);
    chain.finish();
    EXPECT_EQ(calls, 1u);
    EXPECT_EQ(empties, 0u);
}

TEST(IoFilterChainTest, FinishOutputFlowsThroughLaterStagesBeforeTheirFinish) {
    std::string received;
    FilterChain chain([&](std::span<const uint8_t> b) { received.append(b.begin(), b.end()); });
    auto& before = chain.add<RecordFilter>();
    chain.add<ReverseFilter>("|1");
    auto& between = chain.add<RecordFilter>();
    chain.add<ReverseFilter>("|2");
    auto& after = chain.add<RecordFilter>();
    chain.write(bytesOf("ab"));
    chain.write(bytesOf("cd"));
    EXPECT_EQ(between.seen, "");
    chain.finish();

    EXPECT_EQ(before.finishedWith, "abcd");
    EXPECT_EQ(between.finishedWith, "dcba|1");
    EXPECT_EQ(after.finishedWith, "1|abcd|2");
    EXPECT_EQ(received, "1|abcd|2");
}

TEST(IoFilterChainTest, LargeTransformerOutputIsDeliveredWhole) {
    // 3 bytes in, 9 MiB out of one process() call: more than a stage's output limit.
    const size_t factor = 3 << 20;
    std::string runs;  // one letter per run of equal bytes, in arrival order
    std::vector<size_t> runLengths;
    FilterChain chain([&](std::span<const uint8_t> b) {
        for (uint8_t byte : b) {
            if (runs.empty() || runs.back() != static_cast<char>(byte)) {
                runs.push_back(static_cast<char>(byte));
                runLengths.push_back(0);
            }
            ++runLengths.back();
        }
    });
    auto& size = chain.add<SizeFilter>();
    chain.add<RepeatFilter>(factor);
    auto& sizeAfter = chain.add<SizeFilter>();
    chain.write(bytesOf("xyz"));
    chain.finish();
    EXPECT_EQ(size.bytes(), 3u);
    EXPECT_EQ(sizeAfter.bytes(), 3 * factor);
    EXPECT_EQ(runs, "xyz");
    EXPECT_EQ(runLengths, (std::vector<size_t>{factor, factor, factor}));
}

TEST(IoFilterChainTest, SinkExceptionPropagates) {
    FilterChain chain([](std::span<const uint8_t>) { throw Error(ErrorCode::FileWrite, "disk"); });
    chain.add<SizeFilter>();
    try {
        chain.write(bytesOf("abc"));
        FAIL() << "sink error swallowed";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::FileWrite);
    }
}

}  // namespace
}  // namespace backrest::io
