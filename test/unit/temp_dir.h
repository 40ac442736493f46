// A directory of one test's own under the system temp directory, removed with everything in it
// when the test ends: the fixture the unit tests that touch files share.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

namespace backrest::test {

class TempDir {
  public:
    // `prefix` names the directory after the test ("repo-bundle-XXXXXX"), so a directory left by
    // a crashed run says where it came from.
    explicit TempDir(const std::string& prefix = "backrest-test") {
        std::string tmpl =
            std::filesystem::temp_directory_path().string() + "/" + prefix + "-XXXXXX";
        if (::mkdtemp(tmpl.data()) == nullptr)
            throw std::runtime_error("mkdtemp " + tmpl + ": " +
                                     std::generic_category().message(errno));
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ignored;  // a test that failed midway may have left it half removed
        std::filesystem::remove_all(path_, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::string& path() const { return path_; }
    // "<dir>/<relative>"
    std::string operator/(const std::string& relative) const { return path_ + "/" + relative; }

  private:
    std::string path_;
};

}  // namespace backrest::test
