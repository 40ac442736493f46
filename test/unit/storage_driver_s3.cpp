// The S3 driver for the driver-parameterised tests: a fresh prefix in the bucket of the radosgw
// that scripts/test-servers/radosgw.sh started, whose env file TEST_BACKREST_S3_ENV names.
// Without it the S3 tests are skipped, saying so.
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>

#include "storage/s3/s3_storage.h"
#include "storage_drivers.h"

namespace backrest::test {

std::optional<storage::s3::S3Settings> s3TestSettings(const std::string& testName) {
    const char* envFile = std::getenv("TEST_BACKREST_S3_ENV");
    if (envFile == nullptr || *envFile == '\0') return std::nullopt;
    auto env = readEnvFile(envFile);
    if (env["S3_BUCKET"].empty()) return std::nullopt;
    storage::s3::S3Settings s;
    s.bucket = env["S3_BUCKET"];
    s.endpoint = env["S3_ENDPOINT"];
    s.region = env["S3_REGION"];
    s.port = static_cast<unsigned>(std::stoul(env["S3_PORT"]));
    s.pathStyle = true;
    s.credentials = {env["S3_KEY"], env["S3_SECRET"], ""};
    s.tls.caFile = env["S3_CA"];
    s.partSize = 5ull << 20;  // S3's smallest part: multipart uploads with little data
    auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    s.prefix = "unit/" + testName + "-" + std::to_string(::getpid()) + "-" + std::to_string(now);
    return s;
}

DriverStorage makeS3TestStorage(const std::string& testName) {
    auto settings = s3TestSettings(testName);
    if (!settings)
        return {
            nullptr,
            "TEST_BACKREST_S3_ENV does not name the env file of scripts/test-servers/radosgw.sh"};
    return {std::make_unique<storage::s3::S3Storage>(std::move(*settings)), ""};
}

}  // namespace backrest::test
