// repo1-sftp-* options → SftpSettings. The passphrase is copied into the settings only: no
// message, log line or child command line carries it.
#include "worker/repo_storage_sftp.h"

#include "common/error.h"
#include "storage/sftp/sftp_storage.h"

namespace backrest::cmd {

namespace {

storage::sftp::HostKeyCheck hostKeyCheck(const std::string& type) {
    using storage::sftp::HostKeyCheck;
    if (type == "accept-new") return HostKeyCheck::AcceptNew;
    if (type == "fingerprint") return HostKeyCheck::Fingerprint;
    if (type == "none") return HostKeyCheck::None;
    return HostKeyCheck::Strict;
}

std::string required(const Config& config, std::string_view name) {
    auto value = config.find(name);
    if (!value || value->empty())
        raise(ErrorCode::Option, "option '{}' is required with repo1-type=sftp", name);
    return *value;
}

}  // namespace

std::unique_ptr<storage::Storage> makeSftpRepoStorage(const Config& config) {
    storage::sftp::SftpSettings s;
    s.host = required(config, "repo1-sftp-host");
    s.port = static_cast<int>(config.getInt(opt::repo1SftpHostPort));
    s.user = required(config, "repo1-sftp-host-user");
    s.privateKeyFile = required(config, "repo1-sftp-private-key-file");
    s.publicKeyFile = config.find(opt::repo1SftpPublicKeyFile).value_or("");
    s.privateKeyPassphrase = config.find(opt::repo1SftpPrivateKeyPassphrase).value_or("");
    s.knownHosts = config.getMulti(opt::repo1SftpKnownHost);
    s.hostKeyCheck = hostKeyCheck(config.getString(opt::repo1SftpHostKeyCheckType));
    if (s.hostKeyCheck == storage::sftp::HostKeyCheck::Fingerprint) {
        s.hostFingerprint = required(config, "repo1-sftp-host-fingerprint");
        s.hostKeyHashType = required(config, "repo1-sftp-host-key-hash-type");
    }
    s.root = config.getString(opt::repo1Path);
    return std::make_unique<storage::sftp::SftpStorage>(std::move(s));
}

}  // namespace backrest::cmd
