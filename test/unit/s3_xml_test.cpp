// Parsing of S3 reply bodies, as radosgw 16 sent them (captured from the test server).
#include <gtest/gtest.h>

#include "common/error.h"
#include "storage/s3/xml.h"

namespace backrest::storage::s3 {
namespace {

TEST(S3Xml, ErrorBody) {
    auto error = parseError(
        R"(<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchBucket</Code><Message></Message>)"
        R"(<BucketName>nosuchbucket</BucketName><RequestId>tx0000044f922446c8e42a5-006b13ea87-100b-default</RequestId>)"
        R"(<HostId>100b-default-default</HostId></Error>)");
    ASSERT_TRUE(error);
    EXPECT_EQ(error->code, "NoSuchBucket");
    EXPECT_EQ(error->message, "");
    EXPECT_FALSE(parseError(""));                                       // a HEAD's 404
    EXPECT_FALSE(parseError("<html><body>Bad Gateway</body></html>"));  // a proxy's page
}

TEST(S3Xml, ListPageWithContinuation) {
    auto page = parseList(
        R"(<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">)"
        R"(<Name>backrest-test</Name><Prefix>p/</Prefix><MaxKeys>1</MaxKeys><Delimiter>/</Delimiter>)"
        R"(<IsTruncated>true</IsTruncated><Contents><Key>p/a&amp;b.txt</Key><LastModified>2026-12-05T10:42:44.286Z</LastModified>)"
        R"(<ETag>&quot;764efa883dda1e11db47671c4a3bbd9e&quot;</ETag><Size>3</Size><StorageClass>STANDARD</StorageClass>)"
        R"(<Type>Normal</Type></Contents><CommonPrefixes><Prefix>p/d/</Prefix></CommonPrefixes>)"
        R"(<NextContinuationToken>p/a.txt</NextContinuationToken><KeyCount>2</KeyCount></ListBucketResult>)",
        "list");
    ASSERT_EQ(page.objects.size(), 1u);
    EXPECT_EQ(page.objects[0].key, "p/a&b.txt");
    EXPECT_EQ(page.objects[0].size, 3u);
    EXPECT_EQ(page.objects[0].mtime, 1796467364);  // 2026-12-05T10:42:44Z
    ASSERT_EQ(page.prefixes.size(), 1u);
    EXPECT_EQ(page.prefixes[0], "p/d/");
    EXPECT_EQ(page.continuationToken, "p/a.txt");
}

TEST(S3Xml, LastPageHasNoToken) {
    auto page = parseList(
        R"(<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">)"
        R"(<Name>backrest-test</Name><Prefix>p/</Prefix><MaxKeys>1</MaxKeys><Delimiter>/</Delimiter>)"
        R"(<IsTruncated>false</IsTruncated><KeyCount>0</KeyCount></ListBucketResult>)",
        "list");
    EXPECT_TRUE(page.objects.empty());
    EXPECT_TRUE(page.continuationToken.empty());
}

TEST(S3Xml, UploadId) {
    EXPECT_EQ(
        parseUploadId(
            R"(<?xml version="1.0" encoding="UTF-8"?><InitiateMultipartUploadResult )"
            R"(xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>backrest-test</Bucket>)"
            R"(<Key>p/m</Key><UploadId>2~-FgNi-qGIJShYh4ATX30PMuInOJNTdJ</UploadId>)"
            R"(</InitiateMultipartUploadResult>)",
            "start"),
        "2~-FgNi-qGIJShYh4ATX30PMuInOJNTdJ");
}

TEST(S3Xml, DeleteErrors) {
    auto errors = parseDeleteErrors(
        R"(<?xml version="1.0" encoding="UTF-8"?><DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">)"
        R"(<Deleted><Key>p/a</Key></Deleted><Error><Key>p/b</Key><Code>AccessDenied</Code><Message>denied</Message>)"
        R"(</Error></DeleteResult>)",
        "delete");
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0].first, "p/b");
    EXPECT_EQ(errors[0].second.code, "AccessDenied");
}

TEST(S3Xml, NotTheExpectedDocumentNamesTheRequest) {
    try {
        parseList("<html>proxy error</html>", "list 's3://b/p/'");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::Format);
        EXPECT_NE(std::string(e.what()).find("list 's3://b/p/'"), std::string::npos);
    }
}

TEST(S3Xml, HttpTimeAndEscape) {
    EXPECT_EQ(parseHttpTime("Sat, 05 Dec 2026 10:42:44 GMT"), 1796467364);
    EXPECT_EQ(xmlEscape("a&<b>\"'"), "a&amp;&lt;b&gt;&quot;&apos;");
}

}  // namespace
}  // namespace backrest::storage::s3
