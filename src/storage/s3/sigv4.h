// AWS Signature Version 4 for S3 requests, on OpenSSL. Written here rather than taken from
// curl 7.88's CURLOPT_AWS_SIGV4: radosgw rejected that one (query strings not sorted, `?uploads`
// without its '=', no x-amz-content-sha256), and radosgw checks signatures strictly.
#pragma once

#include <cstdint>
#include <ctime>
#include <mutex>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace backrest::storage::s3 {

using Params = std::vector<std::pair<std::string, std::string>>;

std::string sha256Hex(std::span<const uint8_t> bytes);
inline std::string sha256Hex(std::string_view text) {
    return sha256Hex(std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

// "a=1&b=&uploads=": names and values RFC 3986-encoded, sorted by encoded name then value; a
// parameter without a value keeps its '=' (SigV4 signs "uploads=", and the URL must say the same).
std::string canonicalQuery(const Params& query);

// What is signed, for one request: the parts of SigV4's canonical request.
struct CanonicalRequest {
    std::string method;
    std::string uri;    // encoded path, "/bucket/key" or "/key"
    std::string query;  // canonicalQuery()
    Params headers;     // every signed header, any case and order (trimmed and sorted here)
    std::string payloadHash;
};

struct Credentials {
    std::string key;
    std::string secret;
    std::string token;  // empty: none
};

class SigV4 {
  public:
    SigV4(Credentials credentials, std::string region, std::string service = "s3");

    // The Authorization header's value for `request` at `amzDate` (YYYYMMDD'T'HHMMSS'Z').
    std::string authorization(const CanonicalRequest& request, const std::string& amzDate);

    // Signs a request about to be sent: sets x-amz-date (now), x-amz-content-sha256,
    // x-amz-security-token (with a token) and Authorization in `headers`, which must hold host.
    void sign(const std::string& method, const std::string& uri, const std::string& query,
              std::vector<std::pair<std::string, std::string>>& headers,
              const std::string& payloadHash, std::time_t now);

    const std::string& key() const { return credentials_.key; }

  private:
    // HMAC chain from the secret, the date, region and service: the same all day, so computed
    // once a day (four HMACs per request saved).
    std::string signingKey(const std::string& date);

    Credentials credentials_;
    std::string region_;
    std::string service_;
    std::mutex mutex_;
    std::string keyDate_;
    std::string key_;
};

}  // namespace backrest::storage::s3
