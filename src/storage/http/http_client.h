// HTTP(S) transport of the object store drivers (S3, Azure), on libcurl: TLS as OpenSSL builds
// it, keep-alive connections reused across requests, timeouts. libcurl rather than our own
// HTTP/1.1 code: chunked replies, proxies, TLS session reuse and their many corner cases are
// already right there, and Debian keeps it patched. Signing is the driver's (curl 7.88's own
// SigV4 is not used: radosgw rejected it).
//
// Bodies are whole in memory: a driver reads large objects in ranges and writes them in parts,
// so a request never holds more than one part.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

namespace backrest::storage::http {

struct TlsOptions {
    bool verify = true;  // repo1-storage-verify-tls: peer certificate and host name
    std::string caFile;  // repo1-storage-ca-file
    std::string caPath;  // repo1-storage-ca-path
};

struct ClientOptions {
    TlsOptions tls;
    // A request (sending, waiting, receiving) that makes no progress for this long fails and is
    // retried as a dropped connection (pgBackRest's io-timeout, 60 s).
    long timeoutSeconds = 60;
    long connectTimeoutSeconds = 30;
    // Attempts of a retryable request before its error is raised (1 + retries).
    int attempts = 5;
};

struct Request {
    std::string method = {};  // GET, HEAD, PUT, POST, DELETE
    std::string url = {};     // scheme://host[:port]/path?query, already encoded as signed
    // Sent as given; the driver signs exactly these. Content-Length is set from the body.
    std::vector<std::pair<std::string, std::string>> headers = {};
    std::span<const uint8_t> body = {};
    // Said in every error: "PUT 's3://bucket/path'". Never holds a secret or a query string
    // (an Azure SAS token is one).
    std::string what = {};
    // May be sent again after a dropped connection, a timeout, 5xx, 429 or 503 SlowDown. A
    // request whose repetition changes the result is not (S3's CreateMultipartUpload is: each
    // starts a new upload; harmless, but the driver decides).
    bool idempotent = true;
};

struct Response {
    long status = 0;
    std::map<std::string, std::string> headers;  // names lower-cased
    std::string body;

    // nullptr when absent; `name` lower case.
    const std::string* header(const std::string& name) const;
};

// Called before each attempt (the first and every retry) to sign the request anew: a signature
// carries a timestamp, and a retry after minutes must not be refused as stale.
using Signer = std::function<void(Request&)>;

class Client {
  public:
    explicit Client(ClientOptions options);
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    // Sends the request, retrying (with backoff, 0.1 s doubling to 10 s) a dropped connection,
    // a timeout, 5xx, 429 and 503 while the request is idempotent and attempts remain. Returns
    // the last response whatever its status: the driver turns 4xx into its own errors (404 is
    // often not one). A transport failure after the last attempt raises ErrorCode::Network
    // naming request.what and curl's reason. Safe from several threads at once: each call takes
    // a connection (an easy handle) from the pool and gives it back.
    Response perform(Request request, const Signer& sign = {});

  private:
    struct Handle;
    std::unique_ptr<Handle> takeHandle();
    void giveBack(std::unique_ptr<Handle> handle);
    Response performOnce(Handle& handle, const Request& request, std::string& transportError);

    ClientOptions options_;
    std::mutex mutex_;
    std::vector<std::unique_ptr<Handle>> idle_;
};

// Percent-encodes as RFC 3986 (and SigV4) want: unreserved characters kept, everything else
// %XX upper case; '/' kept when keepSlash (an object key in a path).
std::string uriEncode(std::string_view text, bool keepSlash);

}  // namespace backrest::storage::http
