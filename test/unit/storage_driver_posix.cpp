// The posix driver for the driver-parameterised tests: a fresh temporary directory per test.
#include <unistd.h>

#include <filesystem>

#include "storage/posix.h"
#include "storage_drivers.h"
#include "test_support.h"

namespace backrest::test {

DriverStorage makePosixTestStorage(const std::string& testName) {
    auto root = std::filesystem::temp_directory_path() /
                ("backrest-driver-" + testName + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(root);
    std::filesystem::create_directories(root);
    return {std::make_unique<storage::PosixStorage>(root.string()), ""};
}

}  // namespace backrest::test
