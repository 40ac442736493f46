// Every storage driver, for tests that run repository logic through the common interface
// against each of them. A driver whose server is not running here (its environment variables
// unset) gives no storage and the reason, and its tests are skipped saying so.
#pragma once

#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "storage/storage.h"

namespace backrest::test {

// The NAME=value lines of a test server's env file (scripts/test-servers/*.sh write them); a
// value in double quotes loses them.
inline std::map<std::string, std::string> readEnvFile(const std::string& path) {
    std::map<std::string, std::string> values;
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) {
        size_t eq = line.find('=');
        if (eq == std::string::npos) continue;
        std::string value = line.substr(eq + 1);
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
            value = value.substr(1, value.size() - 2);
        values[line.substr(0, eq)] = value;
    }
    return values;
}

struct DriverStorage {
    std::unique_ptr<storage::Storage> storage;  // nullptr: skipped
    std::string skipReason;
};

// Each maker gives a storage rooted at a fresh, empty place of its own (a temp directory, a new
// prefix in a bucket), named after `testName`.
DriverStorage makePosixTestStorage(const std::string& testName);
DriverStorage makeS3TestStorage(const std::string& testName);  // test/unit/storage_driver_s3.cpp
DriverStorage makeAzureTestStorage(
    const std::string& testName);  // test/unit/storage_driver_azure.cpp
DriverStorage makeSftpTestStorage(
    const std::string& testName);  // test/unit/storage_driver_sftp.cpp

struct DriverMaker {
    std::string name;  // "posix", "s3", "azure", "sftp": the parameter name of the tests
    std::function<DriverStorage(const std::string&)> make;
};

// A failing test names its driver, not the maker's bytes.
inline void PrintTo(const DriverMaker& maker, std::ostream* os) {
    *os << maker.name;
}

inline std::vector<DriverMaker> storageDrivers() {
    return {{"posix", makePosixTestStorage},
            {"s3", makeS3TestStorage},
            {"azure", makeAzureTestStorage},
            {"sftp", makeSftpTestStorage}};
}

}  // namespace backrest::test
