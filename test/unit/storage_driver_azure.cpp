// The Azure driver for the driver-parameterised tests: a fresh prefix in Azurite's container,
// when TEST_BACKREST_AZURE_ENV names the env file scripts/test-servers/azurite.sh wrote.
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>

#include "storage/azure/azure_storage.h"
#include "storage_drivers.h"

namespace backrest::test {

DriverStorage makeAzureTestStorage(const std::string& testName) {
    const char* envFile = std::getenv("TEST_BACKREST_AZURE_ENV");
    if (envFile == nullptr || *envFile == '\0')
        return {
            nullptr,
            "TEST_BACKREST_AZURE_ENV is not set (scripts/test-servers/azurite.sh start writes it)"};
    auto env = readEnvFile(envFile);
    if (env["AZURITE_PORT"].empty()) return {nullptr, std::string("no AZURITE_PORT in ") + envFile};
    storage::azure::AzureSettings s;
    s.account = env["AZURITE_ACCOUNT"];
    s.key = env["AZURITE_KEY"];
    s.container = env["AZURITE_CONTAINER"];
    s.host = env["AZURITE_HOST"];
    s.port = std::stoi(env["AZURITE_PORT"]);
    s.pathStyle = true;
    s.tls.caFile = env["AZURITE_CA_FILE"];
    // Small blocks, so that a test's "large" file of a few hundred KiB is several blocks.
    s.blockSize = 64 << 10;
    auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
    s.prefix = "unit/" + testName + "-" + std::to_string(::getpid()) + "-" + std::to_string(stamp);
    return {std::make_unique<storage::azure::AzureStorage>(std::move(s)), ""};
}

}  // namespace backrest::test
