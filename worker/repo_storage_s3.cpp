#include "worker/repo_storage_s3.h"

#include "common/error.h"
#include "storage/s3/s3_storage.h"

namespace backrest::cmd {

namespace {

// A required S3 option: its absence names it (and, for a secret, where else it may come from).
std::string required(const Config& config, std::string_view name, std::string_view hint) {
    auto value = config.find(name);
    if (!value || value->empty())
        raise(ErrorCode::Option, "option '{}' is required with repo1-type=s3{}", name, hint);
    return *value;
}

}  // namespace

std::unique_ptr<storage::Storage> makeS3Storage(const Config& config) {
    std::string keyType = config.getString(opt::repo1S3KeyType);
    if (keyType != "shared")
        raise(ErrorCode::Option,
              "option 'repo1-s3-key-type' is '{}', which backrest does not implement: set it to "
              "'shared' and "
              "give repo1-s3-key and repo1-s3-key-secret",
              keyType);

    storage::s3::S3Settings s;
    s.bucket = required(config, "repo1-s3-bucket", "");
    s.endpoint = required(config, "repo1-s3-endpoint", "");
    s.region = config.getString(opt::repo1S3Region);
    s.credentials.key =
        required(config, "repo1-s3-key", " (config file, or BACKREST_REPO1_S3_KEY)");
    s.credentials.secret =
        required(config, "repo1-s3-key-secret", " (config file, or BACKREST_REPO1_S3_KEY_SECRET)");
    s.credentials.token = config.find(opt::repo1S3Token).value_or("");
    s.pathStyle = config.getString(opt::repo1S3UriStyle) == "path";
    s.host = config.find(opt::repo1StorageHost).value_or("");
    s.port = static_cast<unsigned>(config.getInt(opt::repo1StoragePort));
    s.tls.verify = config.getBool(opt::repo1StorageVerifyTls);
    s.tls.caFile = config.find(opt::repo1StorageCaFile).value_or("");
    s.tls.caPath = config.find(opt::repo1StorageCaPath).value_or("");
    if (config.find(opt::repo1StorageUploadChunkSize)) {
        s.partSize = static_cast<uint64_t>(config.getInt(opt::repo1StorageUploadChunkSize));
        // S3 refuses a part below 5 MiB (all but the last): refused here, before any upload.
        if (s.partSize < (5ull << 20))
            raise(ErrorCode::Option,
                  "option 'repo1-storage-upload-chunk-size' is {} bytes: S3's parts are at least 5 "
                  "MiB "
                  "(5242880 bytes)",
                  s.partSize);
    }
    s.prefix = config.getString(opt::repo1Path);
    return std::make_unique<storage::s3::S3Storage>(std::move(s));
}

}  // namespace backrest::cmd
