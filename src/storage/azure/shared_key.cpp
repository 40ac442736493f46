// Shared Key signing on OpenSSL, following the Blob service's "Authorize with Shared Key" spec.
#include "storage/azure/shared_key.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <ctime>

#include "common/error.h"

namespace backrest::storage::azure {

namespace {

std::string lower(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

std::string trimmed(const std::string& text) {
    size_t begin = text.find_first_not_of(" \t");
    if (begin == std::string::npos) return "";
    return text.substr(begin, text.find_last_not_of(" \t") - begin + 1);
}

std::string headerValue(const http::Request& request, std::string_view name) {
    for (const auto& [key, value] : request.headers)
        if (lower(key) == name) return value;
    return "";
}

}  // namespace

std::string sharedKeyStringToSign(const http::Request& request, const std::string& account,
                                  const std::string& resourcePath, const QueryParams& query) {
    std::string s = request.method + "\n";
    s += headerValue(request, "content-encoding") + "\n";
    s += headerValue(request, "content-language") + "\n";
    s += (request.body.empty() ? std::string() : std::to_string(request.body.size())) + "\n";
    for (std::string_view name : {"content-md5", "content-type", "date", "if-modified-since",
                                  "if-match", "if-none-match", "if-unmodified-since", "range"})
        s += headerValue(request, name) + "\n";

    std::vector<std::pair<std::string, std::string>> msHeaders;
    for (const auto& [key, value] : request.headers)
        if (lower(key).starts_with("x-ms-")) msHeaders.emplace_back(lower(key), trimmed(value));
    std::sort(msHeaders.begin(), msHeaders.end());
    for (const auto& [key, value] : msHeaders) s += key + ":" + value + "\n";

    s += "/" + account + resourcePath;
    // Each name once, lower case, sorted; a repeated name's values joined by commas, sorted.
    std::vector<std::pair<std::string, std::string>> params;
    for (const auto& [key, value] : query) params.emplace_back(lower(key), value);
    std::sort(params.begin(), params.end());
    for (size_t i = 0; i < params.size(); i++) {
        if (i > 0 && params[i].first == params[i - 1].first) {
            s += "," + params[i].second;
            continue;
        }
        s += "\n" + params[i].first + ":" + params[i].second;
    }
    return s;
}

std::string sharedKeyAuthorization(const std::string& account, const std::vector<uint8_t>& key,
                                   const std::string& stringToSign) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int macSize = 0;
    if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
             reinterpret_cast<const unsigned char*>(stringToSign.data()), stringToSign.size(), mac,
             &macSize) == nullptr)
        raise(ErrorCode::Crypto, "HMAC-SHA256 of an Azure request for account '{}' failed",
              account);
    return "SharedKey " + account + ":" + base64Encode(mac, macSize);
}

std::string base64Encode(const uint8_t* data, size_t size) {
    std::string out(4 * ((size + 2) / 3), '\0');
    int n =
        EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
    out.resize(static_cast<size_t>(n));
    return out;
}

bool base64Decode(const std::string& text, std::vector<uint8_t>& out) {
    if (text.empty() || text.size() % 4 != 0) return false;
    out.assign(text.size() / 4 * 3, 0);
    int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()),
                            static_cast<int>(text.size()));
    if (n < 0) return false;
    // EVP_DecodeBlock counts the padding as zero bytes.
    size_t padding = text.ends_with("==") ? 2 : text.ends_with("=") ? 1 : 0;
    out.resize(static_cast<size_t>(n) - padding);
    return true;
}

std::string httpDate(int64_t epochSeconds) {
    std::time_t t = static_cast<std::time_t>(epochSeconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday],
                  tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                  tm.tm_sec);
    return buf;
}

int64_t parseHttpDate(const std::string& text) {
    std::tm tm{};
    // strptime's %a/%b are locale names; the process runs in the C locale (numbers in logs).
    const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (end == nullptr || *end != '\0') return -1;
    return static_cast<int64_t>(timegm(&tm));
}

}  // namespace backrest::storage::azure
