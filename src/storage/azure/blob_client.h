// One Azure container as requests: builds each request's URL (host or path style), signs it
// (Shared Key) or appends the SAS token, sends it over the shared http::Client, and turns the
// service's error replies into typed errors naming the account, container and blob.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "storage/azure/shared_key.h"
#include "storage/http/http_client.h"

namespace backrest::storage::azure {

enum class KeyType { Shared, Sas };

struct AzureSettings {
    std::string account;
    std::string container;
    KeyType keyType = KeyType::Shared;
    std::string key;                                 // base64 account key, or the SAS token
    std::string endpoint = "blob.core.windows.net";  // host is <account>.<endpoint> in host style
    std::string host;                                // repo1-storage-host: replaces that host
    int port = 443;
    bool pathStyle = false;  // https://host/<account>/<container>/... (Azurite)
    http::TlsOptions tls;
    std::string prefix;  // repo1-path inside the container, without leading or trailing '/'
    uint64_t blockSize = 4ull << 20;  // repo1-storage-upload-chunk-size
    int parallel = 4;                 // blocks of one blob uploaded (and blobs deleted) at once
};

class BlobClient {
  public:
    explicit BlobClient(AzureSettings settings);

    const AzureSettings& settings() const { return settings_; }
    // "azure://<container>/<blob>" for messages.
    std::string display(const std::string& blob) const;

    // Sends one request on `blob` (empty: the container itself) and returns the reply whatever its
    // status; transport failures raise NetworkError. `what` names the operation in errors.
    http::Response send(const std::string& method, const std::string& blob,
                        const QueryParams& query,
                        std::vector<std::pair<std::string, std::string>> headers,
                        std::span<const uint8_t> body, const std::string& what,
                        bool idempotent = true);

    // Raises the error a failed reply means: 403 → RepoAuthError naming account and container,
    // anything else → RepoStorageError with the service's code and message.
    [[noreturn]] void fail(const http::Response& reply, const std::string& what) const;

    // The service's error code of a reply (x-ms-error-code, or the XML body's Code).
    static std::string errorCode(const http::Response& reply);

  private:
    AzureSettings settings_;
    std::vector<uint8_t> decodedKey_;
    std::string base_;      // scheme://host:port
    std::string pathBase_;  // /[account/]container
    std::unique_ptr<http::Client> http_;
};

}  // namespace backrest::storage::azure
