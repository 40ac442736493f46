// repo1-type=azure: the Azure driver's settings from the configuration.
#include "common/error.h"
#include "storage/azure/azure_storage.h"
#include "worker/repo_storage.h"

namespace backrest::cmd {

namespace {

std::string required(const Config& config, std::string_view name) {
    auto value = config.find(name);
    if (!value || value->empty())
        raise(ErrorCode::Option, "option '{}' is required with repo1-type=azure{}", name,
              name == "repo1-azure-key" ? " (set it in the config file, or as "
                                          "BACKREST_REPO1_AZURE_KEY)"
                                        : "");
    return *value;
}

}  // namespace

std::unique_ptr<storage::Storage> makeAzureRepoStorage(const Config& config) {
    storage::azure::AzureSettings s;
    s.account = required(config, "repo1-azure-account");
    s.container = required(config, "repo1-azure-container");
    s.key = required(config, "repo1-azure-key");
    s.keyType = config.getString("repo1-azure-key-type") == "sas" ? storage::azure::KeyType::Sas
                                                                  : storage::azure::KeyType::Shared;
    s.endpoint = config.getString("repo1-azure-endpoint");
    s.pathStyle = config.getString("repo1-azure-uri-style") == "path";
    s.host = config.find("repo1-storage-host").value_or("");
    s.port = static_cast<int>(config.getInt("repo1-storage-port"));
    s.tls.verify = config.getBool("repo1-storage-verify-tls");
    s.tls.caFile = config.find("repo1-storage-ca-file").value_or("");
    s.tls.caPath = config.find("repo1-storage-ca-path").value_or("");
    if (config.find("repo1-storage-upload-chunk-size"))
        s.blockSize = static_cast<uint64_t>(config.getInt("repo1-storage-upload-chunk-size"));
    s.parallel = static_cast<int>(std::max<int64_t>(4, config.getInt("process-max")));
    s.prefix = config.getString("repo1-path");
    return std::make_unique<storage::azure::AzureStorage>(std::move(s));
}

}  // namespace backrest::cmd
