// XML of the Blob service: parsed with pugixml, written by hand (three fixed elements).
#include "storage/azure/blob_xml.h"

#include <pugixml.hpp>

#include "common/error.h"
#include "storage/azure/shared_key.h"

namespace backrest::storage::azure {

ListPage parseListPage(const std::string& body, const std::string& what) {
    pugi::xml_document doc;
    auto result = doc.load_buffer(body.data(), body.size());
    pugi::xml_node root = doc.child("EnumerationResults");
    if (!result || !root)
        raise(ErrorCode::RepoStorage, "{}: the reply is not a List Blobs result ({})", what,
              result ? "no EnumerationResults element" : result.description());
    ListPage page;
    pugi::xml_node blobs = root.child("Blobs");
    for (pugi::xml_node blob : blobs.children("Blob")) {
        ListedBlob entry;
        entry.name = blob.child_value("Name");
        pugi::xml_node props = blob.child("Properties");
        entry.size = std::strtoull(props.child_value("Content-Length"), nullptr, 10);
        entry.mtime = parseHttpDate(props.child_value("Last-Modified"));
        if (entry.mtime < 0) entry.mtime = 0;
        page.blobs.push_back(std::move(entry));
    }
    for (pugi::xml_node prefix : blobs.children("BlobPrefix"))
        page.prefixes.emplace_back(prefix.child_value("Name"));
    page.nextMarker = root.child_value("NextMarker");
    return page;
}

ServiceError parseServiceError(const std::string& body) {
    pugi::xml_document doc;
    if (!doc.load_buffer(body.data(), body.size())) return {};
    pugi::xml_node error = doc.child("Error");
    ServiceError parsed{error.child_value("Code"), error.child_value("Message")};
    // The Message's second line is "RequestId:..." and its third "Time:...": noise in an error.
    if (auto eol = parsed.message.find('\n'); eol != std::string::npos) parsed.message.resize(eol);
    while (!parsed.message.empty() &&
           (parsed.message.back() == '\r' || parsed.message.back() == ' '))
        parsed.message.pop_back();
    return parsed;
}

std::string blockListXml(const std::vector<std::string>& blockIds) {
    std::string xml = "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>";
    // Block ids are base64: no character needs escaping.
    for (const auto& id : blockIds) xml += "<Latest>" + id + "</Latest>";
    return xml + "</BlockList>";
}

}  // namespace backrest::storage::azure
