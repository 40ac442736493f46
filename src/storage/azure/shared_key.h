// Azure Blob Storage's Shared Key authorization: an HMAC-SHA256 over the request's string-to-sign
// (the Blob service spec's fixed header fields, its x-ms-* headers and the canonical resource
// with its query parameters sorted), keyed with the account's base64-decoded key.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "storage/http/http_client.h"

namespace backrest::storage::azure {

using QueryParams = std::vector<std::pair<std::string, std::string>>;  // unencoded name, value

// The string-to-sign of `request` (headers as they will be sent; Content-Length is the body's
// size, empty when 0 as version 2015-02-21 and later want). `resourcePath` is the URL's path as
// sent (encoded), `query` the unencoded parameters.
std::string sharedKeyStringToSign(const http::Request& request, const std::string& account,
                                  const std::string& resourcePath, const QueryParams& query);

// "SharedKey <account>:<base64 HMAC-SHA256>" for the decoded key.
std::string sharedKeyAuthorization(const std::string& account, const std::vector<uint8_t>& key,
                                   const std::string& stringToSign);

// Standard base64 (with padding). decode returns nullopt-like empty + false on malformed input.
std::string base64Encode(const uint8_t* data, size_t size);
bool base64Decode(const std::string& text, std::vector<uint8_t>& out);

// "Sun, 21 Jun 2020 12:46:19 GMT" (RFC 1123, as x-ms-date and Last-Modified); parse gives -1
// for anything else.
std::string httpDate(int64_t epochSeconds);
int64_t parseHttpDate(const std::string& text);

}  // namespace backrest::storage::azure
