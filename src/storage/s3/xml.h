// The XML bodies S3 answers with, parsed with pugixml (Debian's libpugixml: small, no
// dependencies, a DOM is right for bodies of at most 1000 entries). Only the fields the driver
// uses.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace backrest::storage::s3 {

struct S3Error {
    std::string code;  // "NoSuchKey", "SignatureDoesNotMatch", "QuotaExceeded", ...
    std::string message;
};

// <Error><Code>..</Code><Message>..</Message></Error>; nullopt when the body is not one (a HEAD
// has no body; a proxy may answer HTML).
std::optional<S3Error> parseError(const std::string& body);

struct ListEntry {
    std::string key;
    uint64_t size = 0;
    int64_t mtime = 0;
};

struct ListPage {
    std::vector<ListEntry> objects;
    std::vector<std::string> prefixes;  // CommonPrefixes, each ending in the delimiter
    std::string continuationToken;      // NextContinuationToken; empty on the last page
};

// ListObjectsV2's ListBucketResult. A body that is not one raises FormatError naming `what`.
ListPage parseList(const std::string& body, const std::string& what);

// InitiateMultipartUploadResult's UploadId.
std::string parseUploadId(const std::string& body, const std::string& what);

// DeleteResult: the keys S3 could not delete, each with its error.
std::vector<std::pair<std::string, S3Error>> parseDeleteErrors(const std::string& body,
                                                               const std::string& what);

// "2026-12-05T10:37:33.123Z" (a listing's LastModified) → seconds since the epoch; 0 if unreadable.
int64_t parseIsoTime(const std::string& text);
// "Sat, 05 Dec 2026 10:37:33 GMT" (Last-Modified header) → seconds since the epoch; 0 if
// unreadable.
int64_t parseHttpTime(const std::string& text);

// Escapes &, <, >, " and ' for an XML body (keys in DeleteObjects).
std::string xmlEscape(const std::string& text);

}  // namespace backrest::storage::s3
