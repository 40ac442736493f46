// Shared Key signing against pgBackRest's published vectors (test/src/module/storage/azureTest.c:
// account "account", key base64 "YXpLZXk=", Date "Sun, 21 Jun 2020 12:46:19 GMT",
// x-ms-version 2024-08-04): an independent implementation's signatures, so a mistake in the
// string-to-sign cannot be agreed with by the same code.
#include <gtest/gtest.h>

#include "storage/azure/shared_key.h"

namespace backrest::storage::azure {
namespace {

std::vector<uint8_t> key() {
    std::vector<uint8_t> k;
    EXPECT_TRUE(base64Decode("YXpLZXk=", k));
    return k;
}

TEST(AzureSharedKey, MinimalGetMatchesKnownSignature) {
    http::Request r;
    r.method = "GET";
    r.headers = {{"content-length", "0"},
                 {"host", "account.blob.core.windows.net"},
                 {"date", "Sun, 21 Jun 2020 12:46:19 GMT"},
                 {"x-ms-version", "2024-08-04"}};
    std::string toSign = sharedKeyStringToSign(r, "account", "/path", {});
    EXPECT_EQ(toSign,
              "GET\n\n\n\n\n\nSun, 21 Jun 2020 12:46:19 "
              "GMT\n\n\n\n\n\nx-ms-version:2024-08-04\n/account/path");
    EXPECT_EQ(sharedKeyAuthorization("account", key(), toSign),
              "SharedKey account:h9heYMD+ErrcIkJATG97G3L9gwom0TQYx/cEj4lAJG4=");
}

TEST(AzureSharedKey, BodyLengthMd5AndQueryMatchKnownSignature) {
    std::vector<uint8_t> body(44, 'x');
    http::Request r;
    r.method = "GET";
    r.body = body;
    r.headers = {{"Content-MD5", "b64f49553d5c441652e95697a2c5949e"},
                 {"Date", "Sun, 21 Jun 2020 12:46:19 GMT"},
                 {"x-ms-version", "2024-08-04"}};
    std::string toSign = sharedKeyStringToSign(r, "account", "/path/file", {{"a", "b"}});
    EXPECT_EQ(sharedKeyAuthorization("account", key(), toSign),
              "SharedKey account:GrE62U88ziaAGq+chejwUKmaBOAsyj+QCjrykcE+O+c=");
}

TEST(AzureSharedKey, CanonicalizesHeadersAndQuery) {
    http::Request r;
    r.method = "PUT";
    r.headers = {{"X-MS-Version", "2021-12-02"},
                 {"x-ms-date", "Sun, 21 Jun 2020 12:46:19 GMT"},
                 {"x-ms-blob-type", " BlockBlob "}};
    // Names lower case and sorted, values unencoded; a repeated name's values joined by commas.
    std::string toSign = sharedKeyStringToSign(r, "acct", "/acct/c/a%20b",
                                               {{"restype", "container"},
                                                {"Comp", "list"},
                                                {"prefix", "a b/"},
                                                {"include", "z"},
                                                {"include", "m"}});
    EXPECT_EQ(toSign,
              "PUT\n\n\n\n\n\n\n\n\n\n\n\n"
              "x-ms-blob-type:BlockBlob\nx-ms-date:Sun, 21 Jun 2020 12:46:19 "
              "GMT\nx-ms-version:2021-12-02\n"
              "/acct/acct/c/a%20b\ncomp:list\ninclude:m,z\nprefix:a b/\nrestype:container");
}

TEST(AzureSharedKey, Base64RoundTripAndRejectsMalformed) {
    std::vector<uint8_t> out;
    EXPECT_FALSE(base64Decode("abc", out));
    EXPECT_FALSE(base64Decode("", out));
    const std::string text = "azKey!";
    std::string encoded = base64Encode(reinterpret_cast<const uint8_t*>(text.data()), text.size());
    ASSERT_TRUE(base64Decode(encoded, out));
    EXPECT_EQ(std::string(out.begin(), out.end()), text);
}

TEST(AzureSharedKey, HttpDateRoundTrip) {
    EXPECT_EQ(httpDate(1592743579), "Sun, 21 Jun 2020 12:46:19 GMT");
    EXPECT_EQ(parseHttpDate("Sun, 21 Jun 2020 12:46:19 GMT"), 1592743579);
    EXPECT_EQ(parseHttpDate("yesterday"), -1);
}

}  // namespace
}  // namespace backrest::storage::azure
