#include "storage/s3/xml.h"

#include <ctime>
#include <pugixml.hpp>

#include "common/error.h"

namespace backrest::storage::s3 {

namespace {

pugi::xml_document load(const std::string& body, const std::string& what, const char* root) {
    pugi::xml_document doc;
    if (!doc.load_buffer(body.data(), body.size()) || !doc.child(root))
        raise(ErrorCode::Format, "{}: the server's reply is not an S3 {} document: '{}'", what,
              root, body.substr(0, 200));
    return doc;
}

}  // namespace

std::optional<S3Error> parseError(const std::string& body) {
    pugi::xml_document doc;
    if (body.empty() || !doc.load_buffer(body.data(), body.size())) return std::nullopt;
    pugi::xml_node error = doc.child("Error");
    if (!error) return std::nullopt;
    return S3Error{error.child_value("Code"), error.child_value("Message")};
}

ListPage parseList(const std::string& body, const std::string& what) {
    auto doc = load(body, what, "ListBucketResult");
    pugi::xml_node result = doc.child("ListBucketResult");
    ListPage page;
    for (pugi::xml_node item : result.children("Contents")) {
        ListEntry entry;
        entry.key = item.child_value("Key");
        entry.size = std::strtoull(item.child_value("Size"), nullptr, 10);
        entry.mtime = parseIsoTime(item.child_value("LastModified"));
        page.objects.push_back(std::move(entry));
    }
    for (pugi::xml_node item : result.children("CommonPrefixes"))
        page.prefixes.emplace_back(item.child_value("Prefix"));
    if (std::string(result.child_value("IsTruncated")) == "true")
        page.continuationToken = result.child_value("NextContinuationToken");
    return page;
}

std::string parseUploadId(const std::string& body, const std::string& what) {
    auto doc = load(body, what, "InitiateMultipartUploadResult");
    std::string id = doc.child("InitiateMultipartUploadResult").child_value("UploadId");
    if (id.empty())
        raise(ErrorCode::Format, "{}: the server's reply holds no UploadId: '{}'", what,
              body.substr(0, 200));
    return id;
}

std::vector<std::pair<std::string, S3Error>> parseDeleteErrors(const std::string& body,
                                                               const std::string& what) {
    auto doc = load(body, what, "DeleteResult");
    std::vector<std::pair<std::string, S3Error>> errors;
    for (pugi::xml_node item : doc.child("DeleteResult").children("Error"))
        errors.push_back({item.child_value("Key"),
                          S3Error{item.child_value("Code"), item.child_value("Message")}});
    return errors;
}

int64_t parseIsoTime(const std::string& text) {
    std::tm tm{};
    if (strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) == nullptr) return 0;
    return timegm(&tm);
}

int64_t parseHttpTime(const std::string& text) {
    std::tm tm{};
    if (strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S", &tm) == nullptr) return 0;
    return timegm(&tm);
}

std::string xmlEscape(const std::string& text) {
    std::string out;
    for (char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&apos;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

}  // namespace backrest::storage::s3
