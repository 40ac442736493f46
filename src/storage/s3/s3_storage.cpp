#include "storage/s3/s3_storage.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <ctime>

#include "common/error.h"
#include "common/log.h"
#include "storage/s3/s3_io.h"
#include "storage/s3/xml.h"

namespace backrest::storage::s3 {

namespace {

constexpr size_t kDeleteBatch = 1000;  // DeleteObjects' limit per request

std::string md5Base64(std::span<const uint8_t> bytes) {
    uint8_t digest[EVP_MAX_MD_SIZE];
    unsigned size = 0;
    if (EVP_Digest(bytes.data(), bytes.size(), digest, &size, EVP_md5(), nullptr) != 1)
        raise(ErrorCode::Crypto,
              "MD5 failed in OpenSSL while building an S3 DeleteObjects request");
    std::string out(4 * ((size + 2) / 3) + 1, '\0');
    int length =
        EVP_EncodeBlock(reinterpret_cast<uint8_t*>(out.data()), digest, static_cast<int>(size));
    out.resize(static_cast<size_t>(length));
    return out;
}

std::span<const uint8_t> bytesOf(const std::string& text) {
    return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

}  // namespace

S3Storage::S3Storage(S3Settings settings) : settings_(std::move(settings)) {
    while (!settings_.prefix.empty() && settings_.prefix.front() == '/')
        settings_.prefix.erase(0, 1);
    while (!settings_.prefix.empty() && settings_.prefix.back() == '/') settings_.prefix.pop_back();
    http::ClientOptions options;
    options.tls = settings_.tls;
    options.attempts = settings_.attempts;
    client_ = std::make_unique<http::Client>(options);
    signer_ = std::make_unique<SigV4>(settings_.credentials, settings_.region);
}

S3Storage::~S3Storage() = default;

std::string S3Storage::key(const std::string& path) const {
    std::string relative = path;
    if (!relative.empty() && relative.front() == '/') return relative.substr(1);
    while (relative.starts_with("./")) relative.erase(0, 2);
    if (relative == ".") relative.clear();
    if (relative.empty()) return settings_.prefix;
    return settings_.prefix.empty() ? relative : settings_.prefix + "/" + relative;
}

std::string S3Storage::url(const std::string& key) const {
    return fmt::format("s3://{}/{}", settings_.bucket, key);
}

std::string S3Storage::fullPath(const std::string& path) const {
    return url(key(path));
}

http::Response S3Storage::request(const std::string& method, const std::string& key,
                                  const Params& query, std::span<const uint8_t> body,
                                  Params headers, bool idempotent) {
    const S3Settings& s = settings_;
    std::string hostName = s.pathStyle ? s.endpoint : s.bucket + "." + s.endpoint;
    std::string hostHeader = s.port == 443 ? hostName : fmt::format("{}:{}", hostName, s.port);
    std::string connect = s.host.empty() ? hostName : s.host;
    std::string uri = (s.pathStyle ? "/" + http::uriEncode(s.bucket, false) : std::string()) + "/" +
                      http::uriEncode(key, true);
    std::string queryText = canonicalQuery(query);

    http::Request req;
    req.method = method;
    req.url = fmt::format("https://{}:{}{}{}{}", connect, s.port, uri, queryText.empty() ? "" : "?",
                          queryText);
    req.headers = std::move(headers);
    req.headers.emplace_back("host", hostHeader);
    req.body = body;
    req.what = fmt::format("{} '{}'", method, url(key));
    // One line per request (log-level-console=debug): how many a command costs, and which.
    std::string listed;
    for (const auto& [name, value] : query)
        if (name == "prefix") listed = fmt::format(" (list prefix '{}')", value);
    logDebug("S3 request: {}{}", req.what, listed);
    req.idempotent = idempotent;
    std::string payloadHash = sha256Hex(body);
    SigV4& signer = *signer_;
    return client_->perform(std::move(req), [&](http::Request& r) {
        signer.sign(r.method, uri, queryText, r.headers, payloadHash, std::time(nullptr));
    });
}

void S3Storage::raiseFor(const http::Response& response, const std::string& what) const {
    auto error = parseError(response.body);
    std::string code = error ? error->code : "";
    std::string message = error ? error->message : "";
    std::string repository =
        fmt::format("the S3 repository s3://{} at {}:{}", settings_.bucket,
                    settings_.host.empty() ? settings_.endpoint : settings_.host, settings_.port);
    if (code == "SignatureDoesNotMatch" || code == "InvalidAccessKeyId" || code == "InvalidToken" ||
        code == "ExpiredToken" || (response.status == 403 && code == "AccessDenied"))
        raise(ErrorCode::RepoAuth,
              "{}: {} refused the credentials (S3 error {}{}{}): check repo1-s3-key, "
              "repo1-s3-key-secret "
              "and repo1-s3-token",
              what, repository, code, message.empty() ? "" : ": ", message);
    if (code == "NoSuchBucket")
        raise(ErrorCode::RepoStorage,
              "{}: {} has no bucket '{}' (S3 error NoSuchBucket): check repo1-s3-bucket, "
              "repo1-s3-endpoint and repo1-s3-uri-style, or create the bucket",
              what, repository, settings_.bucket);
    if (code == "QuotaExceeded")
        raise(ErrorCode::RepoStorage,
              "{}: {} is out of quota (S3 error QuotaExceeded{}{}): free space in the bucket "
              "(expire old "
              "backups) or raise the bucket's or user's quota",
              what, repository, message.empty() ? "" : ": ", message);
    if (code.empty())
        raise(ErrorCode::RepoStorage, "{}: {} answered HTTP {} without an S3 error: '{}'", what,
              repository, response.status, response.body.substr(0, 200));
    raise(ErrorCode::RepoStorage, "{}: {} answered HTTP {} (S3 error {}{}{})", what, repository,
          response.status, code, message.empty() ? "" : ": ", message);
}

bool S3Storage::bucketMissing(const http::Response& response) const {
    auto error = parseError(response.body);
    return error && error->code == "NoSuchBucket";
}

std::unique_ptr<StorageRead> S3Storage::openRead(const std::string& path, bool ignoreMissing,
                                                 const ReadRange& range) {
    return openS3Read(*this, key(path), ignoreMissing, range);
}

std::unique_ptr<StorageWrite> S3Storage::openWrite(const std::string& path, const WriteOptions&) {
    return openS3Write(*this, key(path));
}

std::optional<FileInfo> S3Storage::info(const std::string& path, bool) {
    std::string k = key(path);
    if (!k.empty()) {
        auto response = request("HEAD", k, {});
        if (response.status / 100 == 2) {
            FileInfo result;
            result.name = path;
            if (auto* length = response.header("content-length"))
                result.size = std::stoull(*length);
            if (auto* modified = response.header("last-modified"))
                result.mtime = parseHttpTime(*modified);
            return result;
        }
        if (response.status != 404) raiseFor(response, fmt::format("HEAD '{}'", url(k)));
    }
    // Not an object: a "path" while any object is under it.
    std::string prefix = k.empty() ? "" : k + "/";
    auto response = request("GET", "", {{"list-type", "2"}, {"prefix", prefix}, {"max-keys", "1"}});
    std::string what = fmt::format("list '{}'", url(prefix));
    if (response.status / 100 != 2) raiseFor(response, what);
    auto page = parseList(response.body, what);
    if (page.objects.empty() && page.prefixes.empty()) return std::nullopt;
    FileInfo result;
    result.name = path;
    result.type = FileType::Path;
    return result;
}

std::vector<FileInfo> S3Storage::list(const std::string& path, bool ignoreMissing) {
    std::string k = key(path);
    std::string prefix = k.empty() ? "" : k + "/";
    std::vector<FileInfo> entries = listUnder(prefix, "");
    if (entries.empty() && !ignoreMissing)
        raise(ErrorCode::FileMissing, "path '{}' does not exist (no object under it)", url(prefix));
    return entries;
}

std::vector<FileInfo> S3Storage::listPrefix(const std::string& path,
                                            const std::string& namePrefix) {
    std::string k = key(path);
    return listUnder(k.empty() ? "" : k + "/", namePrefix);
}

std::vector<FileInfo> S3Storage::listUnder(const std::string& prefix,
                                           const std::string& namePrefix) {
    std::vector<FileInfo> entries;
    std::string token;
    std::string what = fmt::format("list '{}'", url(prefix + namePrefix));
    do {
        Params query{{"list-type", "2"},
                     {"prefix", prefix + namePrefix},
                     {"delimiter", "/"},
                     {"max-keys", std::to_string(settings_.listPageSize)}};
        if (!token.empty()) query.emplace_back("continuation-token", token);
        auto response = request("GET", "", query);
        if (response.status / 100 != 2) raiseFor(response, what);
        auto page = parseList(response.body, what);
        for (const auto& object : page.objects) {
            if (object.key.size() <= prefix.size())
                continue;  // the prefix itself, as a "directory" marker
            FileInfo entry;
            entry.name = object.key.substr(prefix.size());
            entry.size = object.size;
            entry.mtime = object.mtime;
            entries.push_back(std::move(entry));
        }
        for (const auto& common : page.prefixes) {
            FileInfo entry;
            entry.name = common.substr(prefix.size());
            if (!entry.name.empty() && entry.name.back() == '/') entry.name.pop_back();
            entry.type = FileType::Path;
            entries.push_back(std::move(entry));
        }
        token = page.continuationToken;
    } while (!token.empty());
    return entries;
}

void S3Storage::remove(const std::string& path, bool errorOnMissing) {
    std::string k = key(path);
    if (errorOnMissing && !info(path))
        raise(ErrorCode::FileMissing, "unable to remove '{}': it does not exist", url(k));
    auto response = request("DELETE", k, {});
    if (response.status / 100 != 2 && (response.status != 404 || bucketMissing(response)))
        raiseFor(response, fmt::format("DELETE '{}'", url(k)));
}

std::vector<std::string> S3Storage::listKeys(const std::string& prefix) {
    std::vector<std::string> keys;
    std::string token;
    std::string what = fmt::format("list '{}'", url(prefix));
    do {
        Params query{{"list-type", "2"},
                     {"prefix", prefix},
                     {"max-keys", std::to_string(settings_.listPageSize)}};
        if (!token.empty()) query.emplace_back("continuation-token", token);
        auto response = request("GET", "", query);
        if (response.status / 100 != 2) raiseFor(response, what);
        auto page = parseList(response.body, what);
        for (auto& object : page.objects) keys.push_back(std::move(object.key));
        token = page.continuationToken;
    } while (!token.empty());
    return keys;
}

void S3Storage::deleteKeys(const std::vector<std::string>& keys) {
    for (size_t start = 0; start < keys.size(); start += kDeleteBatch) {
        size_t end = std::min(keys.size(), start + kDeleteBatch);
        std::string body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Delete><Quiet>true</Quiet>";
        for (size_t i = start; i < end; ++i)
            body += "<Object><Key>" + xmlEscape(keys[i]) + "</Key></Object>";
        body += "</Delete>";
        auto response = request("POST", "", {{"delete", ""}}, bytesOf(body),
                                {{"Content-MD5", md5Base64(bytesOf(body))}});
        std::string what =
            fmt::format("delete {} objects under '{}'", end - start, url(keys[start]));
        if (response.status / 100 != 2) raiseFor(response, what);
        auto errors = parseDeleteErrors(response.body, what);
        for (const auto& [failed, error] : errors) {
            if (error.code == "NoSuchKey") continue;  // gone already: what was asked
            raise(ErrorCode::RepoStorage, "unable to delete '{}': S3 error {}: {}", url(failed),
                  error.code, error.message);
        }
    }
}

void S3Storage::removePath(const std::string& path, bool recursive) {
    if (!recursive) return;  // no directories: an "empty path" does not exist
    std::string k = key(path);
    deleteKeys(listKeys(k.empty() ? "" : k + "/"));
}

}  // namespace backrest::storage::s3
