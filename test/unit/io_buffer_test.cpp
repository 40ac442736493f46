// Buffer: growth keeps the bytes, and each size of buffer gets the alignment its writers need.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "io/buffer.h"

using backrest::io::Buffer;

namespace {

uintptr_t address(const Buffer& b) {
    return reinterpret_cast<uintptr_t>(b.data());
}

}  // namespace

TEST(IoBuffer, GrowingKeepsTheBytesWritten) {
    Buffer b;
    const std::string text = "backup_label contents";
    b.append({reinterpret_cast<const uint8_t*>(text.data()), text.size()});
    std::memset(b.ensureFree(5u << 20), 'x', 5u << 20);
    b.commit(5u << 20);
    ASSERT_EQ(b.size(), text.size() + (5u << 20));
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(b.data()), text.size()), text);
    EXPECT_EQ(b.data()[b.size() - 1], 'x');
}

// O_DIRECT needs 4 KiB alignment from 64 KiB on; a huge-page buffer is aligned to 2 MiB once it
// reaches that size (the advice to the kernel needs whole huge pages), and not before.
TEST(IoBuffer, AlignmentFollowsSizeAndPages) {
    Buffer normal(8u << 20);
    EXPECT_EQ(address(normal) % 4096, 0u);

    Buffer huge(Buffer::Pages::Huge);
    huge.ensureFree(100u << 10);
    EXPECT_EQ(address(huge) % 4096, 0u);
    huge.append({reinterpret_cast<const uint8_t*>("frame"), 5});
    huge.ensureFree((8u << 20) + 1);  // a restore's 8 MiB frame
    EXPECT_EQ(address(huge) % (2u << 20), 0u);
    EXPECT_GE(huge.capacity(), (8u << 20) + 6);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(huge.data()), 5), "frame");
}
