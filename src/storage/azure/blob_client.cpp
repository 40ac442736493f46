// Request plumbing of the Azure driver. Secrets stay here: the key only signs, the SAS token only
// joins the URL, and neither reaches a message (errors name http::Request::what, which holds no
// query string).
#include "storage/azure/blob_client.h"

#include <ctime>

#include "common/error.h"
#include "common/log.h"
#include "storage/azure/blob_xml.h"

namespace backrest::storage::azure {

namespace {

// Supported by Azure and by Azurite 3.35 without --skipApiVersionCheck.
constexpr const char* kApiVersion = "2021-12-02";

std::string encodeQuery(const QueryParams& query) {
    std::string out;
    for (const auto& [name, value] : query) {
        out += out.empty() ? "?" : "&";
        out += http::uriEncode(name, false) + "=" + http::uriEncode(value, false);
    }
    return out;
}

}  // namespace

BlobClient::BlobClient(AzureSettings settings) : settings_(std::move(settings)) {
    if (settings_.keyType == KeyType::Shared && !base64Decode(settings_.key, decodedKey_))
        raise(ErrorCode::Option,
              "option 'repo1-azure-key' is not valid base64 (repo1-azure-key-type=shared wants the "
              "account's "
              "access key as the portal shows it; for a SAS token set repo1-azure-key-type=sas)");
    if (settings_.keyType == KeyType::Sas && settings_.key.starts_with("?"))
        settings_.key.erase(0, 1);
    std::string host =
        settings_.host.empty() ? settings_.account + "." + settings_.endpoint : settings_.host;
    base_ = "https://" + host + (settings_.port == 443 ? "" : ":" + std::to_string(settings_.port));
    pathBase_ =
        (settings_.pathStyle ? "/" + settings_.account : std::string()) + "/" + settings_.container;
    http::ClientOptions options;
    options.tls = settings_.tls;
    http_ = std::make_unique<http::Client>(options);
}

std::string BlobClient::display(const std::string& blob) const {
    return "azure://" + settings_.container + "/" + blob;
}

http::Response BlobClient::send(const std::string& method, const std::string& blob,
                                const QueryParams& query,
                                std::vector<std::pair<std::string, std::string>> headers,
                                std::span<const uint8_t> body, const std::string& what,
                                bool idempotent) {
    std::string path = pathBase_ + (blob.empty() ? "" : "/" + http::uriEncode(blob, true));
    std::string queryText = encodeQuery(query);
    if (settings_.keyType == KeyType::Sas)
        queryText += (queryText.empty() ? "?" : "&") + settings_.key;
    http::Request request;
    request.method = method;
    request.url = base_ + path + queryText;
    request.headers = std::move(headers);
    request.headers.emplace_back("x-ms-version", kApiVersion);
    request.body = body;
    request.what = what;
    request.idempotent = idempotent;
    // One line per request (log-level-console=debug): how many a command costs, and which.
    logDebug("Azure request: {}", what);
    size_t dateIndex = request.headers.size();
    request.headers.emplace_back("x-ms-date", "");
    http::Signer sign = [&](http::Request& r) {
        r.headers[dateIndex].second = httpDate(static_cast<int64_t>(std::time(nullptr)));
        if (settings_.keyType != KeyType::Shared) return;
        if (r.headers.back().first == "Authorization") r.headers.pop_back();
        std::string toSign = sharedKeyStringToSign(r, settings_.account, path, query);
        r.headers.emplace_back("Authorization",
                               sharedKeyAuthorization(settings_.account, decodedKey_, toSign));
    };
    return http_->perform(std::move(request), sign);
}

std::string BlobClient::errorCode(const http::Response& reply) {
    if (const std::string* code = reply.header("x-ms-error-code")) return *code;
    return parseServiceError(reply.body).code;
}

void BlobClient::fail(const http::Response& reply, const std::string& what) const {
    ServiceError error = parseServiceError(reply.body);
    if (error.code.empty()) error.code = errorCode(reply);
    std::string detail =
        fmt::format("HTTP {}{}{}", reply.status, error.code.empty() ? "" : " " + error.code,
                    error.message.empty() ? "" : ": " + error.message);
    if (reply.status == 403)
        raise(ErrorCode::RepoAuth,
              "{}: Azure refused the credentials of account '{}' for container '{}' ({}); check "
              "repo1-azure-key "
              "and repo1-azure-key-type ({}){}",
              what, settings_.account, settings_.container, detail,
              settings_.keyType == KeyType::Shared ? "shared" : "sas",
              settings_.keyType == KeyType::Sas
                  ? ", and that the SAS token grants this operation and has not expired"
                  : "");
    if (error.code == "ContainerNotFound")
        raise(ErrorCode::RepoStorage,
              "{}: container '{}' does not exist in Azure account '{}' ({}); create it (az storage "
              "container create) "
              "or fix repo1-azure-container",
              what, settings_.container, settings_.account, detail);
    raise(ErrorCode::RepoStorage, "{}: Azure account '{}' answered {}", what, settings_.account,
          detail);
}

}  // namespace backrest::storage::azure
