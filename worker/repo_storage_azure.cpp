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
    s.keyType = config.getString(opt::repo1AzureKeyType) == "sas" ? storage::azure::KeyType::Sas
                                                                  : storage::azure::KeyType::Shared;
    s.endpoint = config.getString(opt::repo1AzureEndpoint);
    s.pathStyle = config.getString(opt::repo1AzureUriStyle) == "path";
    s.host = config.find(opt::repo1StorageHost).value_or("");
    s.port = static_cast<int>(config.getInt(opt::repo1StoragePort));
    s.tls.verify = config.getBool(opt::repo1StorageVerifyTls);
    s.tls.caFile = config.find(opt::repo1StorageCaFile).value_or("");
    s.tls.caPath = config.find(opt::repo1StorageCaPath).value_or("");
    if (config.find(opt::repo1StorageUploadChunkSize))
        s.blockSize = static_cast<uint64_t>(config.getInt(opt::repo1StorageUploadChunkSize));
    s.parallel = static_cast<int>(std::max<int64_t>(4, config.getInt(opt::processMax)));
    s.prefix = config.getString(opt::repo1Path);
    return std::make_unique<storage::azure::AzureStorage>(std::move(s));
}

}  // namespace backrest::cmd
