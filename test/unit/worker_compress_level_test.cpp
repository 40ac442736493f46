// compress-type and compress-level as a carried-over pgbackrest.conf sets them: an unset level
// takes the type's default (zst 3, lz4 1, as pgBackRest's), a level outside the type's range is
// refused naming both options.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/config.h"
#include "common/error.h"
#include "test/unit/test_support.h"
#include "worker/context.h"

namespace backrest::cmd {
namespace {

using test::errorOf;

repo::RepoCodec codecOf(std::vector<std::string> args) {
    std::vector<const char*> argv{"backrest", "--config=/dev/null", "backup"};
    for (const auto& a : args) argv.push_back(a.c_str());
    const char* const envp[] = {nullptr};
    return repoCodec(Config::parse(static_cast<int>(argv.size()), argv.data(), envp));
}

TEST(CompressLevel, UnsetTakesTheDefaultOfTheType) {
    EXPECT_EQ(codecOf({}).compressType(), io::CompressType::Zst);
    EXPECT_EQ(codecOf({}).compressLevel(), 3);
    EXPECT_EQ(codecOf({"--compress-type=lz4"}).compressType(), io::CompressType::Lz4);
    EXPECT_EQ(codecOf({"--compress-type=lz4"}).compressLevel(), 1);
    EXPECT_EQ(codecOf({"--compress-type=lz4", "--compress-level=9"}).compressLevel(), 9);
    EXPECT_EQ(codecOf({"--compress-type=zst", "--compress-level=19"}).compressLevel(), 19);
}

TEST(CompressLevel, OutsideTheRangeOfTheTypeIsRefused) {
    Error e = errorOf([] { codecOf({"--compress-type=lz4", "--compress-level=19"}); });
    EXPECT_EQ(e.code(), ErrorCode::Option);
    EXPECT_EQ(std::string(e.what()),
              "invalid value '19' for option 'compress-level': compress-type=lz4 takes a level "
              "from -5 to 12");
    EXPECT_EQ(errorOf([] {
                  codecOf({"--compress-type=lz4", "--compress-level=-6"});
              }).code(),
              ErrorCode::Option);
    EXPECT_EQ(codecOf({"--compress-type=lz4", "--compress-level=-5"}).compressLevel(), -5);
    EXPECT_EQ(codecOf({"--compress-type=lz4", "--compress-level=12"}).compressLevel(), 12);
}

}  // namespace
}  // namespace backrest::cmd
