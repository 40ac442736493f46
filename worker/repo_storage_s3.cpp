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
    std::string keyType = config.getString("repo1-s3-key-type");
    if (keyType != "shared")
        raise(ErrorCode::Option,
              "option 'repo1-s3-key-type' is '{}', which backrest does not implement: set it to "
              "'shared' and "
              "give repo1-s3-key and repo1-s3-key-secret",
              keyType);

    storage::s3::S3Settings s;
    s.bucket = required(config, "repo1-s3-bucket", "");
    s.endpoint = required(config, "repo1-s3-endpoint", "");
    s.region = config.getString("repo1-s3-region");
    s.credentials.key =
        required(config, "repo1-s3-key", " (config file, or BACKREST_REPO1_S3_KEY)");
    s.credentials.secret =
        required(config, "repo1-s3-key-secret", " (config file, or BACKREST_REPO1_S3_KEY_SECRET)");
    s.credentials.token = config.find("repo1-s3-token").value_or("");
    s.pathStyle = config.getString("repo1-s3-uri-style") == "path";
    s.host = config.find("repo1-storage-host").value_or("");
    s.port = static_cast<unsigned>(config.getInt("repo1-storage-port"));
    s.tls.verify = config.getBool("repo1-storage-verify-tls");
    s.tls.caFile = config.find("repo1-storage-ca-file").value_or("");
    s.tls.caPath = config.find("repo1-storage-ca-path").value_or("");
    if (config.find("repo1-storage-upload-chunk-size")) {
        s.partSize = static_cast<uint64_t>(config.getInt("repo1-storage-upload-chunk-size"));
        // S3 refuses a part below 5 MiB (all but the last): refused here, before any upload.
        if (s.partSize < (5ull << 20))
            raise(ErrorCode::Option,
                  "option 'repo1-storage-upload-chunk-size' is {} bytes: S3's parts are at least 5 "
                  "MiB "
                  "(5242880 bytes)",
                  s.partSize);
    }
    s.prefix = config.getString("repo1-path");
    return std::make_unique<storage::s3::S3Storage>(std::move(s));
}

}  // namespace backrest::cmd
