// The data directory of a backup from a standby: which server each file is read from.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "command/backup/standby_data.h"
#include "common/error.h"
#include "storage/posix.h"
#include "temp_dir.h"

namespace backrest::backup {
namespace {

void writeFile(const std::string& path, const std::string& content) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path) << content;
}

TEST(StandbyData, RelationFilesComeFromTheStandbyTheRestFromThePrimary) {
    EXPECT_TRUE(readFromStandby("base/5/16384"));
    EXPECT_TRUE(readFromStandby("base"));
    EXPECT_TRUE(readFromStandby("./base/1/1259"));
    EXPECT_TRUE(readFromStandby("global/1262"));
    EXPECT_FALSE(readFromStandby("global/pg_control"));  // the primary's: not a standby's control
    EXPECT_FALSE(readFromStandby("global"));
    EXPECT_TRUE(readFromStandby("pg_tblspc/16400/PG_15_202209061/5/16401"));
    EXPECT_TRUE(readFromStandby("pg_tblspc/16400/PG_15_202209061"));
    EXPECT_FALSE(readFromStandby("pg_tblspc/16400"));  // the link: the primary's location
    EXPECT_FALSE(readFromStandby("pg_tblspc"));
    for (const char* p :
         {"", ".", "PG_VERSION", "postgresql.auto.conf", "standby.signal", "pg_xact/0000",
          "pg_multixact/offsets/0000", "pg_logical/replorigin", "basement/x", "/abs/base/1"})
        EXPECT_FALSE(readFromStandby(p)) << p;
}

TEST(StandbyData, ReadsListsAndRefusesWrites) {
    test::TempDir primaryDir("standby-data-primary"), standbyDir("standby-data-standby");
    for (auto* d : {&primaryDir, &standbyDir}) {
        std::string side = d == &primaryDir ? "primary" : "standby";
        writeFile(*d / "PG_VERSION", side);
        writeFile(*d / "base/5/16384", side);
        writeFile(*d / "global/1262", side);
        writeFile(*d / "global/pg_control", side + " control");
    }
    writeFile(standbyDir / "standby.signal", "");
    writeFile(standbyDir / "global/only_standby", "s");
    auto primary = std::make_shared<storage::PosixStorage>(primaryDir.path());
    auto standby = std::make_shared<storage::PosixStorage>(standbyDir.path());
    StandbyDataStorage data(primary, standby);

    EXPECT_EQ(storage::readAll(data, "PG_VERSION"), "primary");
    EXPECT_EQ(storage::readAll(data, "base/5/16384"), "standby");
    EXPECT_EQ(storage::readAll(data, "global/1262"), "standby");
    EXPECT_EQ(storage::readAll(data, "global/pg_control"), "primary control");
    EXPECT_EQ(data.fullPath("base/5/16384"), standbyDir / "base/5/16384");
    EXPECT_EQ(data.fullPath("PG_VERSION"), primaryDir / "PG_VERSION");

    auto names = [](std::vector<storage::FileInfo> entries) {
        std::vector<std::string> out;
        for (const auto& e : entries) out.push_back(e.name);
        std::sort(out.begin(), out.end());
        return out;
    };
    // The root is the primary's: the standby's standby.signal is never backed up.
    EXPECT_EQ(names(data.list(".")), (std::vector<std::string>{"PG_VERSION", "base", "global"}));
    EXPECT_EQ(names(data.list("global")),
              (std::vector<std::string>{"1262", "only_standby", "pg_control"}));
    for (const auto& e : data.list("global")) {
        if (e.name == "pg_control") {
            EXPECT_EQ(e.size, 15u);  // the primary's entry
        }
    }
    EXPECT_THROW(data.openWrite("base/5/16384"), Error);
    EXPECT_THROW(data.remove("PG_VERSION"), Error);
    EXPECT_THROW(data.removePath("base", true), Error);
    EXPECT_EQ(storage::readAll(*standby, "base/5/16384"), "standby");  // nothing changed
}

}  // namespace
}  // namespace backrest::backup
