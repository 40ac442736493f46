// Checksummed JSON files with a .copy for the repository's metadata.
#include "repo/checksummed_json.h"

#include "common/error.h"
#include "common/log.h"
#include "io/sha256.h"

namespace backrest::repo {

namespace {
constexpr std::string_view kChecksumKey = ",\"checksum\":\"";
}

std::string sealChecksummed(std::string body) {
    std::string digest = io::sha256Hex(body);
    body.append(kChecksumKey);
    body.append(digest);
    body.append("\"}\n");
    return body;
}

std::string serializeChecksummed(const nlohmann::json& doc) {
    if (!doc.is_object() || doc.empty() || doc.contains("checksum"))
        raise(ErrorCode::Assert,
              "checksummed document must be a non-empty object without 'checksum'");
    std::string body = doc.dump();
    body.pop_back();  // the closing '}'
    return sealChecksummed(std::move(body));
}

void verifyChecksummed(const std::string& text, const std::string& context) {
    auto at = text.rfind(kChecksumKey);
    if (at == std::string::npos)
        raise(ErrorCode::Format, "'{}' has no checksum: not a backrest metadata file or truncated",
              context);
    std::string_view stored(text.data() + at + kChecksumKey.size(),
                            std::min<size_t>(64, text.size() - at - kChecksumKey.size()));
    // Nothing may follow the checksum but the closing brace: bytes after it are not covered.
    std::string_view tail(text.data() + at + kChecksumKey.size() + stored.size(),
                          text.size() - at - kChecksumKey.size() - stored.size());
    if (tail != "\"}\n" && tail != "\"}")
        raise(ErrorCode::Format,
              "'{}' has data after its checksum: not written by backrest or damaged", context);
    std::string actual = io::sha256Hex(std::string_view(text.data(), at));
    if (stored != actual)
        raise(ErrorCode::Checksum, "'{}' is damaged: checksum {} recorded, {} computed", context,
              stored, actual);
}

nlohmann::json parseChecksummed(const std::string& text, const std::string& context) {
    verifyChecksummed(text, context);
    try {
        auto doc = nlohmann::json::parse(text);
        doc.erase("checksum");
        return doc;
    } catch (const nlohmann::json::exception& e) {
        raise(ErrorCode::Format, "'{}' is not valid JSON: {}", context, e.what());
    }
}

void saveChecksummedText(storage::Storage& storage, const std::string& path,
                         const std::string& text) {
    storage::writeAll(storage, path + ".copy", text);
    storage::writeAll(storage, path, text);
}

void saveChecksummed(storage::Storage& storage, const std::string& path,
                     const nlohmann::json& doc) {
    saveChecksummedText(storage, path, serializeChecksummed(doc));
}

void warnDamagedCopy(const std::string& message) {
    logWarn("{}; trying the other copy", message);
}

std::optional<nlohmann::json> loadChecksummed(storage::Storage& storage, const std::string& path,
                                              const std::shared_ptr<const crypto::RepoKey>& key) {
    return loadChecksummedAs(
        storage, path,
        [](const std::string& text, const std::string& context) {
            try {
                auto doc = nlohmann::json::parse(text);
                doc.erase("checksum");
                return doc;
            } catch (const nlohmann::json::exception& e) {
                raise(ErrorCode::Format, "'{}' is not valid JSON: {}", context, e.what());
            }
        },
        key);
}

}  // namespace backrest::repo
