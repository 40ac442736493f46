// The Blob service's XML bodies: a List Blobs page, an error reply, a Put Block List body.
// pugixml: small, in Debian (libpugixml-dev), DOM over the whole page (a page holds at most
// 5000 entries, ~2 MB), and no network or entity expansion that libxml2 would need turned off.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace backrest::storage::azure {

struct ListedBlob {
    std::string name;  // the whole blob name
    uint64_t size = 0;
    int64_t mtime = 0;
};

struct ListPage {
    std::vector<ListedBlob> blobs;
    std::vector<std::string> prefixes;  // with their trailing delimiter, as the service gives them
    std::string nextMarker;             // empty: last page
};

// Raises RepoStorageError naming `what` when the body is not a List Blobs result.
ListPage parseListPage(const std::string& body, const std::string& what);

struct ServiceError {
    std::string code;     // AuthenticationFailed, BlobNotFound, ...; empty when the body has none
    std::string message;  // the first line of the service's Message
};

// Never raises: a reply that is not an Azure error gives empty fields.
ServiceError parseServiceError(const std::string& body);

// <BlockList><Latest>id</Latest>...</BlockList>
std::string blockListXml(const std::vector<std::string>& blockIds);

}  // namespace backrest::storage::azure
