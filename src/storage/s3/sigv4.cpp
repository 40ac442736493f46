#include "storage/s3/sigv4.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>

#include "common/error.h"
#include "storage/http/http_client.h"

namespace backrest::storage::s3 {

namespace {

std::string hex(const uint8_t* bytes, size_t size) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out(size * 2, '\0');
    for (size_t i = 0; i < size; ++i) {
        out[2 * i] = kDigits[bytes[i] >> 4];
        out[2 * i + 1] = kDigits[bytes[i] & 0xf];
    }
    return out;
}

std::string hmac(std::string_view key, std::string_view data) {
    uint8_t out[EVP_MAX_MD_SIZE];
    unsigned size = 0;
    if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
             reinterpret_cast<const uint8_t*>(data.data()), data.size(), out, &size) == nullptr)
        raise(ErrorCode::Crypto, "HMAC-SHA256 failed in OpenSSL while signing an S3 request");
    return std::string(reinterpret_cast<const char*>(out), size);
}

std::string encode(std::string_view text) {
    return http::uriEncode(text, false);
}

std::string trim(std::string_view value) {
    size_t begin = value.find_first_not_of(" \t");
    if (begin == std::string_view::npos) return {};
    size_t end = value.find_last_not_of(" \t");
    // Inner runs of spaces become one, as SigV4 says.
    std::string out;
    for (size_t i = begin; i <= end; ++i) {
        if (value[i] == ' ' && !out.empty() && out.back() == ' ') continue;
        out += value[i];
    }
    return out;
}

std::string lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    return out;
}

}  // namespace

std::string sha256Hex(std::span<const uint8_t> bytes) {
    uint8_t digest[SHA256_DIGEST_LENGTH];
    SHA256(bytes.data(), bytes.size(), digest);
    return hex(digest, sizeof digest);
}

std::string canonicalQuery(const Params& query) {
    std::vector<std::pair<std::string, std::string>> encoded;
    encoded.reserve(query.size());
    for (const auto& [name, value] : query) encoded.emplace_back(encode(name), encode(value));
    std::sort(encoded.begin(), encoded.end());
    std::string out;
    for (const auto& [name, value] : encoded) {
        if (!out.empty()) out += '&';
        out += name + "=" + value;
    }
    return out;
}

SigV4::SigV4(Credentials credentials, std::string region, std::string service)
    : credentials_(std::move(credentials)),
      region_(std::move(region)),
      service_(std::move(service)) {}

std::string SigV4::signingKey(const std::string& date) {
    std::lock_guard lock(mutex_);
    if (keyDate_ != date) {
        std::string key = hmac("AWS4" + credentials_.secret, date);
        key = hmac(key, region_);
        key = hmac(key, service_);
        key_ = hmac(key, "aws4_request");
        keyDate_ = date;
    }
    return key_;
}

std::string SigV4::authorization(const CanonicalRequest& request, const std::string& amzDate) {
    std::vector<std::pair<std::string, std::string>> headers;
    for (const auto& [name, value] : request.headers)
        headers.emplace_back(lower(name), trim(value));
    std::sort(headers.begin(), headers.end());

    std::string canonicalHeaders, signedHeaders;
    for (const auto& [name, value] : headers) {
        canonicalHeaders += name + ":" + value + "\n";
        if (!signedHeaders.empty()) signedHeaders += ';';
        signedHeaders += name;
    }
    std::string canonical =
        fmt::format("{}\n{}\n{}\n{}\n{}\n{}", request.method, request.uri, request.query,
                    canonicalHeaders, signedHeaders, request.payloadHash);
    std::string date = amzDate.substr(0, 8);
    std::string scope = fmt::format("{}/{}/{}/aws4_request", date, region_, service_);
    std::string toSign =
        fmt::format("AWS4-HMAC-SHA256\n{}\n{}\n{}", amzDate, scope, sha256Hex(canonical));
    std::string signature = hmac(signingKey(date), toSign);
    return fmt::format("AWS4-HMAC-SHA256 Credential={}/{},SignedHeaders={},Signature={}",
                       credentials_.key, scope, signedHeaders,
                       hex(reinterpret_cast<const uint8_t*>(signature.data()), signature.size()));
}

void SigV4::sign(const std::string& method, const std::string& uri, const std::string& query,
                 std::vector<std::pair<std::string, std::string>>& headers,
                 const std::string& payloadHash, std::time_t now) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    char amzDate[32];
    std::strftime(amzDate, sizeof amzDate, "%Y%m%dT%H%M%SZ", &tm);

    // A retry signs again: drop what the previous attempt added.
    std::erase_if(headers, [](const auto& header) {
        std::string name = lower(header.first);
        return name == "authorization" || name == "x-amz-date" || name == "x-amz-content-sha256" ||
               name == "x-amz-security-token";
    });
    headers.emplace_back("x-amz-date", amzDate);
    headers.emplace_back("x-amz-content-sha256", payloadHash);
    if (!credentials_.token.empty())
        headers.emplace_back("x-amz-security-token", credentials_.token);
    CanonicalRequest request{method, uri, query, headers, payloadHash};
    headers.emplace_back("Authorization", authorization(request, amzDate));
}

}  // namespace backrest::storage::s3
