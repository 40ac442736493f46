// Protocol framing: encode/decode round trips (whole and byte by byte), the big-endian length
// prefix, and every malformed input (oversized prefix, payload not JSON, JSON not an object,
// oversized message to encode) raised as a ProtocolError — never a crash.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"
#include "protocol/frame.h"
#include "test/unit/test_support.h"

namespace backrest::protocol {
namespace {

using backrest::test::errorOf;

using backrest::test::has;

// A length prefix alone.
std::string prefix(uint32_t n) {
    return {static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
            static_cast<char>(n)};
}

// A frame with the given raw payload and its true length.
std::string rawFrame(const std::string& payload) {
    return prefix(static_cast<uint32_t>(payload.size())) + payload;
}

std::vector<Message> sampleMessages() {
    return {
        {{"type", "hello"}, {"version", 1}, {"client", "unit-test"}},
        Message::object(),
        {{"id", 18446744073709551615ULL},
         {"ok", true},
         {"nested", {{"a", {1, 2, 3}}, {"b", nullptr}}}},
        {{"id", 7},
         {"error", {{"code", 38}, {"message", "caf\xc3\xa9 \xe2\x82\xac \"quoted\" \\ \n"}}}},
        {{"type", "archive-push"},
         {"id", 2},
         {"path", std::string(70000, 'p')}},  // > 64 KiB: 3-byte length
    };
}

TEST(ProtocolFrame, RoundTripAllAtOnce) {
    auto messages = sampleMessages();
    std::string stream;
    for (const auto& m : messages) stream += encodeFrame(m);

    FrameDecoder d;
    EXPECT_FALSE(d.next().has_value());  // nothing fed yet
    d.feed(stream);
    for (const auto& m : messages) {
        auto got = d.next();
        ASSERT_TRUE(got.has_value());
        EXPECT_EQ(*got, m);
    }
    EXPECT_FALSE(d.next().has_value());
    EXPECT_FALSE(d.midFrame());
}

TEST(ProtocolFrame, RoundTripByteByByte) {
    auto messages = sampleMessages();
    std::string stream;
    std::vector<size_t> ends;  // offset just past each frame
    for (const auto& m : messages) {
        stream += encodeFrame(m);
        ends.push_back(stream.size());
    }

    FrameDecoder d;
    std::vector<Message> got;
    size_t frame = 0;
    for (size_t i = 0; i < stream.size(); i++) {
        d.feed(std::string_view(stream).substr(i, 1));
        auto m = d.next();
        if (i + 1 == ends[frame]) {
            // A message comes out exactly when its last byte arrives, not before.
            ASSERT_TRUE(m.has_value()) << "frame " << frame << " at byte " << i;
            got.push_back(*m);
            frame++;
            EXPECT_FALSE(d.midFrame()) << "after frame " << frame;
        } else {
            ASSERT_FALSE(m.has_value()) << "premature message at byte " << i;
            EXPECT_TRUE(d.midFrame()) << "at byte " << i;
        }
    }
    ASSERT_EQ(got.size(), messages.size());
    for (size_t i = 0; i < messages.size(); i++) EXPECT_EQ(got[i], messages[i]) << "message " << i;
}

TEST(ProtocolFrame, TwoFramesInOneFeedAndSplitAcrossFeeds) {
    Message a = {{"id", 1}, {"ok", true}};
    Message b = {{"id", 2}, {"ok", false}};
    std::string s = encodeFrame(a) + encodeFrame(b);
    FrameDecoder d;
    d.feed(s.substr(0, encodeFrame(a).size() + 2));  // all of a, two bytes of b's prefix
    EXPECT_EQ(d.next(), a);
    EXPECT_FALSE(d.next().has_value());
    EXPECT_TRUE(d.midFrame());
    d.feed(s.substr(encodeFrame(a).size() + 2));
    EXPECT_EQ(d.next(), b);
    EXPECT_FALSE(d.midFrame());
}

TEST(ProtocolFrame, LengthPrefixIsBigEndian) {
    std::string f = encodeFrame({{"a", 1}});
    ASSERT_EQ(f.size(), 4u + 7u);
    EXPECT_EQ(f.substr(0, 4), std::string("\x00\x00\x00\x07", 4));
    EXPECT_EQ(f.substr(4), R"({"a":1})");

    // A payload of exactly 0x010203 bytes: {"s":"…"} is 8 bytes of syntax around the string.
    std::string big = encodeFrame({{"s", std::string(0x010203 - 8, 'x')}});
    ASSERT_EQ(big.size(), 4u + 0x010203u);
    EXPECT_EQ(static_cast<unsigned char>(big[0]), 0x00);
    EXPECT_EQ(static_cast<unsigned char>(big[1]), 0x01);
    EXPECT_EQ(static_cast<unsigned char>(big[2]), 0x02);
    EXPECT_EQ(static_cast<unsigned char>(big[3]), 0x03);

    // And the decoder reads the prefix the same way: a hand-made big-endian frame.
    FrameDecoder d;
    d.feed(rawFrame(R"({"x":"y"})"));
    EXPECT_EQ(d.next(), (Message{{"x", "y"}}));
}

TEST(ProtocolFrame, OversizedLengthPrefixIsProtocolError) {
    for (uint32_t n : {0xFFFFFFFFu, static_cast<uint32_t>(kMaxFrameSize + 1), 0x7FFFFFFFu}) {
        FrameDecoder d;
        d.feed(prefix(n));  // the prefix alone is enough: nothing is buffered up to n
        Error e = errorOf([&] { d.next(); });
        EXPECT_EQ(e.code(), ErrorCode::Protocol) << n;
        EXPECT_TRUE(has(e.what(), "exceeds")) << e.what();
        EXPECT_TRUE(has(e.what(), std::to_string(n))) << e.what();
    }
}

TEST(ProtocolFrame, LengthPrefixAtTheLimitIsAccepted) {
    // kMaxFrameSize itself is allowed: the decoder waits for the payload instead of failing.
    FrameDecoder d;
    d.feed(prefix(static_cast<uint32_t>(kMaxFrameSize)));
    EXPECT_FALSE(d.next().has_value());
    EXPECT_TRUE(d.midFrame());

    // A message whose payload is exactly kMaxFrameSize bytes encodes and decodes.
    Message m = {{"s", std::string(kMaxFrameSize - 8, 'z')}};
    std::string f = encodeFrame(m);
    ASSERT_EQ(f.size(), 4 + kMaxFrameSize);
    FrameDecoder d2;
    d2.feed(f);
    EXPECT_EQ(d2.next(), m);
}

TEST(ProtocolFrame, PayloadNotJsonIsProtocolError) {
    for (std::string payload :
         {std::string("{oops"), std::string("{}x"), std::string(""), std::string("{\"a\":1} []"),
          std::string("{\"s\":\"\xff\xfe\"}"), std::string("{\"s\":\"\\udc00\"}")}) {
        FrameDecoder d;
        d.feed(rawFrame(payload));
        Error e = errorOf([&] { d.next(); });
        EXPECT_EQ(e.code(), ErrorCode::Protocol) << "payload: " << payload;
        EXPECT_TRUE(has(e.what(), "not a JSON object")) << e.what();
    }
}

TEST(ProtocolFrame, PayloadWithBytesAfterANulIsProtocolError) {
    // A NUL after the object is not JSON whitespace: the payload is not one JSON object, and the
    // bytes after it must not be silently dropped.
    std::string payload("{\"a\":1}\0{\"type\":\"backup-begin\"}", 31);
    FrameDecoder d;
    d.feed(rawFrame(payload));
    std::optional<Message> m;
    try {
        m = d.next();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::Protocol);
        return;
    }
    ASSERT_TRUE(m.has_value());
    ADD_FAILURE()
        << "FrameDecoder::next (src/protocol/frame.cpp:35, Message::parse) stops at a NUL byte: "
           "payload {\"a\":1}\\0{\"type\":\"backup-begin\"} decodes as "
        << m->dump() << " and the rest of the frame is ignored instead of a ProtocolError";
}

TEST(ProtocolFrame, JsonNotAnObjectIsProtocolError) {
    for (std::string payload : {"[1,2]", "42", "\"hello\"", "null", "true"}) {
        FrameDecoder d;
        d.feed(rawFrame(payload));
        Error e = errorOf([&] { d.next(); });
        EXPECT_EQ(e.code(), ErrorCode::Protocol) << payload;
        EXPECT_TRUE(has(e.what(), "not a JSON object")) << e.what();
    }
}

TEST(ProtocolFrame, BadFrameAfterGoodOneStillDeliversTheGoodOne) {
    FrameDecoder d;
    d.feed(encodeFrame({{"id", 1}}) + rawFrame("[1,2]"));
    EXPECT_EQ(d.next(), (Message{{"id", 1}}));
    EXPECT_EQ(errorOf([&] { d.next(); }).code(), ErrorCode::Protocol);
}

TEST(ProtocolFrame, MidFrame) {
    FrameDecoder d;
    EXPECT_FALSE(d.midFrame());
    std::string f = encodeFrame({{"k", "v"}});
    d.feed(f.substr(0, 2));  // half a prefix
    EXPECT_TRUE(d.midFrame());
    EXPECT_FALSE(d.next().has_value());
    d.feed(f.substr(2, 5));  // prefix and a byte of payload
    EXPECT_TRUE(d.midFrame());
    EXPECT_FALSE(d.next().has_value());
    d.feed(f.substr(7));
    EXPECT_TRUE(d.next().has_value());
    EXPECT_FALSE(d.midFrame());
}

TEST(ProtocolFrame, EncodeOversizedMessageIsProtocolError) {
    Message m = {{"s", std::string(kMaxFrameSize + 1, 'x')}};  // > 1 MiB once quoted
    Error e = errorOf([&] { encodeFrame(m); });
    EXPECT_EQ(e.code(), ErrorCode::Protocol);
    EXPECT_TRUE(has(e.what(), "exceeds")) << e.what();
    EXPECT_TRUE(has(e.what(), std::to_string(kMaxFrameSize))) << e.what();

    // One byte over the limit in the payload, not just in a field.
    Message edge = {{"s", std::string(kMaxFrameSize - 8 + 1, 'x')}};
    EXPECT_EQ(errorOf([&] { encodeFrame(edge); }).code(), ErrorCode::Protocol);
}

TEST(ProtocolFrame, EncodeInvalidUtf8IsReplacedNotFatal) {
    // A string that is not UTF-8 (a file name from disk put into an error message) must not make
    // the reply unsendable: the bad bytes are replaced with U+FFFD and the rest is kept.
    Message m = {{"id", 1}, {"error", {{"code", 23}, {"message", "missing file '\xff\xfe'"}}}};
    std::string frame = encodeFrame(m);
    EXPECT_NE(frame.find("\xEF\xBF\xBD"), std::string::npos);
    FrameDecoder d;
    d.feed(frame);
    auto back = d.next();
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->at("error").at("code"), 23);
    EXPECT_TRUE(back->at("error").at("message").get<std::string>().starts_with("missing file '"));
}

TEST(ProtocolFrame, DeeplyNestedPayloadWithinLimitDoesNotCrash) {
    // ~500k levels of nesting in under 1 MiB: decoding must not overflow the stack.
    size_t depth = 500000;
    std::string payload = "{\"a\":" + std::string(depth, '[') + std::string(depth, ']') + "}";
    ASSERT_LE(payload.size(), kMaxFrameSize);
    FrameDecoder d;
    d.feed(rawFrame(payload));
    auto m = d.next();
    ASSERT_TRUE(m.has_value());
    EXPECT_TRUE(m->is_object());
    EXPECT_TRUE(m->at("a").is_array());
}

}  // namespace
}  // namespace backrest::protocol
