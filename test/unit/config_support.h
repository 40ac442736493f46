// Config::parse from a list of arguments and a fake environment (the real one never leaks in),
// and the Error a call raises: shared by the tests of the option sources.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/error.h"

namespace backrest::test {

inline Config parseConfig(const std::vector<std::string>& args,
                          const std::vector<std::string>& env = {}) {
    std::vector<const char*> argv{"backrest"};
    for (const auto& a : args) argv.push_back(a.c_str());
    std::vector<const char*> envp;
    for (const auto& e : env) envp.push_back(e.c_str());
    envp.push_back(nullptr);
    return Config::parse(static_cast<int>(argv.size()), argv.data(), envp.data());
}

// The message of the Error `f` raises, with its code checked; a failure when it raises none.
inline std::string errorMessage(const std::function<void()>& f,
                                ErrorCode expected = ErrorCode::Option) {
    try {
        f();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), expected) << e.what();
        return e.what();
    }
    ADD_FAILURE() << "expected an Error";
    return "";
}

inline std::string writeFile(const std::string& path, std::string_view text) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path) << text;
    return path;
}

}  // namespace backrest::test
