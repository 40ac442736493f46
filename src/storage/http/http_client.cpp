// libcurl under the object store drivers: a pool of easy handles (each keeps its connection
// alive between requests), retries with backoff, and errors that name the request, never its
// credentials.
#include "storage/http/http_client.h"

#include <curl/curl.h>
#include <strings.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <thread>

#include "common/error.h"
#include "common/log.h"

namespace backrest::storage::http {

namespace {

// curl_global_init is not thread safe: done once, before the first handle, by a static.
struct CurlGlobal {
    CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
    ~CurlGlobal() { curl_global_cleanup(); }
};

void ensureCurlGlobal() {
    static CurlGlobal global;
}

size_t appendBody(char* data, size_t size, size_t count, void* user) {
    static_cast<std::string*>(user)->append(data, size * count);
    return size * count;
}

// "Name: value\r\n" → headers[name lower-cased] = value. A new status line (a redirect, a 100
// Continue) starts the set over, so only the final reply's headers are kept.
size_t collectHeader(char* data, size_t size, size_t count, void* user) {
    auto* headers = static_cast<std::map<std::string, std::string>*>(user);
    std::string_view line(data, size * count);
    if (line.starts_with("HTTP/")) {
        headers->clear();
        return size * count;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return size * count;
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
        value.remove_prefix(1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
        value.remove_suffix(1);
    (*headers)[name] = std::string(value);
    return size * count;
}

bool retryableStatus(long status) {
    return status == 429 || status >= 500;
}

}  // namespace

struct Client::Handle {
    CURL* curl = nullptr;
    Handle() : curl(curl_easy_init()) {
        if (!curl) raise(ErrorCode::Assert, "unable to create a libcurl handle");
    }
    ~Handle() { curl_easy_cleanup(curl); }
};

const std::string* Response::header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? nullptr : &it->second;
}

Client::Client(ClientOptions options) : options_(std::move(options)) {
    ensureCurlGlobal();
}

Client::~Client() = default;

std::unique_ptr<Client::Handle> Client::takeHandle() {
    {
        std::lock_guard lock(mutex_);
        if (!idle_.empty()) {
            auto handle = std::move(idle_.back());
            idle_.pop_back();
            return handle;
        }
    }
    return std::make_unique<Handle>();
}

void Client::giveBack(std::unique_ptr<Handle> handle) {
    std::lock_guard lock(mutex_);
    idle_.push_back(std::move(handle));
}

Response Client::performOnce(Handle& handle, const Request& request, std::string& transportError) {
    CURL* c = handle.curl;
    // Options of the previous request on this handle go; the connection cache stays.
    curl_easy_reset(c);
    Response response;
    char errorBuffer[CURL_ERROR_SIZE] = {0};

    curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errorBuffer);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // several threads; no SIGALRM for DNS timeouts
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, options_.connectTimeoutSeconds);
    // No progress (below 1 byte/s) for timeoutSeconds: the connection is taken for dropped. A
    // fixed total timeout would fail a slow but working upload of a large part.
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, options_.timeoutSeconds);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, options_.tls.verify ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, options_.tls.verify ? 2L : 0L);
    if (!options_.tls.caFile.empty())
        curl_easy_setopt(c, CURLOPT_CAINFO, options_.tls.caFile.c_str());
    if (!options_.tls.caPath.empty())
        curl_easy_setopt(c, CURLOPT_CAPATH, options_.tls.caPath.c_str());
    // Never follow a redirect: the signature covers the host and path it was made for.
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, appendBody);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &response.body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collectHeader);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &response.headers);

    struct curl_slist* headers = nullptr;
    bool hasContentType = false;
    for (const auto& [name, value] : request.headers) {
        std::string line = value.empty() ? name + ";" : name + ": " + value;
        headers = curl_slist_append(headers, line.c_str());
        if (strcasecmp(name.c_str(), "content-type") == 0) hasContentType = true;
    }
    // curl adds these on its own; they are not signed, so they must not be sent.
    headers = curl_slist_append(headers, "Expect:");
    if (!hasContentType) headers = curl_slist_append(headers, "Content-Type:");
    headers = curl_slist_append(headers, "Accept:");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);

    if (request.method == "HEAD") {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (request.method == "GET") {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
        // POSTFIELDS sends the body as is (binary safe with its size) for any method.
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                         static_cast<curl_off_t>(request.body.size()));
        curl_easy_setopt(
            c, CURLOPT_POSTFIELDS,
            request.body.empty() ? "" : reinterpret_cast<const char*>(request.body.data()));
    }

    CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(headers);
    if (rc != CURLE_OK) {
        transportError =
            errorBuffer[0] ? std::string(errorBuffer) : std::string(curl_easy_strerror(rc));
        // A TLS problem (bad certificate, wrong CA) does not get better by trying again.
        if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE ||
            rc == CURLE_SSL_CERTPROBLEM)
            transportError = "TLS: " + transportError;
        response.status = 0;
        return response;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
    return response;
}

Response Client::perform(Request request, const Signer& sign) {
    int attempts = request.idempotent ? std::max(1, options_.attempts) : 1;
    auto delay = std::chrono::milliseconds(100);
    std::string transportError;
    for (int attempt = 1;; ++attempt) {
        if (sign) sign(request);
        transportError.clear();
        auto handle = takeHandle();
        Response response = performOnce(*handle, request, transportError);
        if (transportError.empty()) {
            giveBack(std::move(handle));
        }
        // else: the handle's connection is in an unknown state; it goes with the handle.
        bool tlsFailure = transportError.starts_with("TLS: ");
        bool retry = attempt < attempts && !tlsFailure &&
                     (!transportError.empty() || retryableStatus(response.status));
        if (!retry) {
            if (!transportError.empty())
                raise(ErrorCode::Network, "{}: {} (after {} attempt{})", request.what,
                      transportError, attempt, attempt == 1 ? "" : "s");
            return response;
        }
        logWarn("{}: {}; trying again in {} ms (attempt {} of {})", request.what,
                transportError.empty() ? "HTTP " + std::to_string(response.status) : transportError,
                delay.count(), attempt + 1, attempts);
        std::this_thread::sleep_for(delay);
        delay = std::min(delay * 2, std::chrono::milliseconds(10000));
    }
}

std::string uriEncode(std::string_view text, bool keepSlash) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size() * 3);
    for (unsigned char c : text) {
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~' || (keepSlash && c == '/')) {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 15];
        }
    }
    return out;
}

}  // namespace backrest::storage::http
