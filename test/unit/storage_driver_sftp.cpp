// The SFTP driver for the driver-parameterised tests: a fresh directory per test under the root of
// the sshd that scripts/test-servers/sshd.sh started, named by TEST_BACKREST_SFTP_ENV (its env
// file). Without it the SFTP tests are skipped.
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>

#include "storage/sftp/sftp_storage.h"
#include "storage_drivers.h"

namespace backrest::test {

storage::sftp::SftpSettings sftpTestSettings(const std::string& envFile) {
    auto env = readEnvFile(envFile);
    storage::sftp::SftpSettings s;
    s.host = env["SFTP_HOST"];
    s.port = std::atoi(env["SFTP_PORT"].c_str());
    s.user = env["SFTP_USER"];
    s.privateKeyFile = env["SFTP_PRIVATE_KEY"];
    s.knownHosts = {env["SFTP_KNOWN_HOSTS"]};
    s.root = env["SFTP_ROOT"];
    return s;
}

DriverStorage makeSftpTestStorage(const std::string& testName) {
    const char* envFile = std::getenv("TEST_BACKREST_SFTP_ENV");
    if (envFile == nullptr || *envFile == '\0')
        return {
            nullptr,
            "TEST_BACKREST_SFTP_ENV is not set (scripts/test-servers/sshd.sh start <dir> <port> "
            "writes <dir>/sshd.env)"};
    auto settings = sftpTestSettings(envFile);
    settings.root += "/driver-" + testName + "-" + std::to_string(::getpid());
    auto storage = std::make_unique<storage::sftp::SftpStorage>(settings);
    storage->removePath("", true);
    storage->pathCreate("", 0750);
    return {std::move(storage), ""};
}

}  // namespace backrest::test
