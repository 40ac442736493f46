// Helpers shared by the unit tests: catching the backrest::Error a call must raise, and
// looking for a phrase in a message.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>

#include "common/error.h"

namespace backrest::test {

// The Error `f` raises; a test failure (and an Assert error) when it raises none, or raises
// another kind of exception (a library error that escaped the typed errors).
template <typename F>
Error errorOf(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        return e;
    } catch (const std::exception& e) {
        ADD_FAILURE() << "a std::exception that is not a backrest::Error: " << e.what();
        return Error(ErrorCode::Assert, e.what());
    }
    ADD_FAILURE() << "no backrest::Error thrown";
    return Error(ErrorCode::Assert, "");
}

inline void writeFile(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
}

inline std::string readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

inline bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

}  // namespace backrest::test
