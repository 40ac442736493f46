// A repository in an S3 bucket (AWS, or a compatible server: Ceph's radosgw is what the tests
// run). Objects under a prefix (repo1-path) stand for files; "paths" exist while objects are
// under them. No posix capability: every file is written whole (a PUT, or a multipart upload
// completed at close) and read by ranged GETs.
#pragma once

#include <memory>
#include <string>

#include "storage/http/http_client.h"
#include "storage/s3/sigv4.h"
#include "storage/storage.h"

namespace backrest::storage::s3 {

struct S3Settings {
    std::string bucket;    // repo1-s3-bucket
    std::string endpoint;  // repo1-s3-endpoint: the host name S3 is addressed as
    std::string region = "us-east-1";
    std::string host;         // repo1-storage-host: where to connect, when not the endpoint
    unsigned port = 443;      // repo1-storage-port
    bool pathStyle = false;   // repo1-s3-uri-style=path: https://endpoint/bucket/key
    std::string prefix;       // repo1-path: the keys' prefix, without its leading '/'
    Credentials credentials;  // repo1-s3-key, -key-secret, -token
    http::TlsOptions tls;     // repo1-storage-verify-tls, -ca-file, -ca-path
    // repo1-storage-upload-chunk-size: a file larger than this is sent as a multipart upload
    // of parts this large (S3's minimum part is 5 MiB).
    uint64_t partSize = 8ull << 20;
    int partsInFlight = 4;            // parts of one file uploaded at once
    uint64_t readChunk = 4ull << 20;  // bytes asked per GET when reading
    int listPageSize = 1000;          // max-keys of ListObjectsV2 (S3's own limit)
    int attempts = 5;                 // of each idempotent request (http::ClientOptions)
};

class S3Storage : public Storage {
  public:
    explicit S3Storage(S3Settings settings);
    ~S3Storage() override;

    Features features() const override { return {}; }
    std::unique_ptr<StorageRead> openRead(const std::string& path, bool ignoreMissing = false,
                                          const ReadRange& range = {}) override;
    std::unique_ptr<StorageWrite> openWrite(const std::string& path,
                                            const WriteOptions& options = {}) override;
    std::optional<FileInfo> info(const std::string& path, bool followLink = false) override;
    std::vector<FileInfo> list(const std::string& path, bool ignoreMissing = true) override;
    std::vector<FileInfo> listPrefix(const std::string& path,
                                     const std::string& namePrefix) override;
    void remove(const std::string& path, bool errorOnMissing = false) override;
    void removePath(const std::string& path, bool recursive) override;
    std::string fullPath(const std::string& path) const override;

    // ---- For the reader and writer (s3_read.cpp, s3_write.cpp) ----

    // The object key of a path: under the prefix, or an absolute path as a key from the bucket.
    std::string key(const std::string& path) const;
    std::string url(const std::string& key) const;  // for messages: s3://bucket/key

    // Sends a signed request for `key` ("" for the bucket) with query parameters and body.
    http::Response request(const std::string& method, const std::string& key, const Params& query,
                           std::span<const uint8_t> body = {}, Params headers = {},
                           bool idempotent = true);
    // Raises the error of a reply that is not 2xx: RepoAuthError for refused credentials,
    // RepoStorageError with S3's Code and Message otherwise.
    [[noreturn]] void raiseFor(const http::Response& response, const std::string& what) const;

    // A 404 whose S3 error is NoSuchBucket: the repository's bucket, not an object, is missing.
    bool bucketMissing(const http::Response& response) const;

    const S3Settings& settings() const { return settings_; }

  private:
    // Every key under `prefix` (no delimiter), page by page.
    std::vector<std::string> listKeys(const std::string& prefix);
    // The entries one level under the key prefix `prefix` ("" or ending in '/') whose names
    // start with `namePrefix`, named relative to `prefix`.
    std::vector<FileInfo> listUnder(const std::string& prefix, const std::string& namePrefix);
    void deleteKeys(const std::vector<std::string>& keys);

    S3Settings settings_;
    std::unique_ptr<http::Client> client_;
    std::unique_ptr<SigV4> signer_;
};

}  // namespace backrest::storage::s3
