// The Blob service's XML as Azurite and Azure send it: a List Blobs page, an error, a block list.
#include <gtest/gtest.h>

#include "common/error.h"
#include "storage/azure/blob_xml.h"

namespace backrest::storage::azure {
namespace {

TEST(AzureBlobXml, ParsesListPageWithBlobsPrefixesAndMarker) {
    std::string body =
        "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults "
        "ServiceEndpoint=\"https://127.0.0.1:1/devstoreaccount1\" "
        "ContainerName=\"c\"><Prefix>repo/</Prefix>"
        "<Delimiter>/</Delimiter><Blobs><Blob><Name>repo/a.info</"
        "Name><Properties><Last-Modified>Sun, 21 Jun 2020 "
        "12:46:19 "
        "GMT</Last-Modified><Content-Length>123</Content-Length><BlobType>BlockBlob</BlobType>"
        "</Properties></Blob><BlobPrefix><Name>repo/backup/</Name></BlobPrefix></Blobs>"
        "<NextMarker>2!88!xyz</NextMarker></EnumerationResults>";
    ListPage page = parseListPage(body, "List Blobs");
    ASSERT_EQ(page.blobs.size(), 1u);
    EXPECT_EQ(page.blobs[0].name, "repo/a.info");
    EXPECT_EQ(page.blobs[0].size, 123u);
    EXPECT_EQ(page.blobs[0].mtime, 1592743579);
    ASSERT_EQ(page.prefixes.size(), 1u);
    EXPECT_EQ(page.prefixes[0], "repo/backup/");
    EXPECT_EQ(page.nextMarker, "2!88!xyz");
}

TEST(AzureBlobXml, LastPageHasNoMarker) {
    ListPage page =
        parseListPage("<EnumerationResults><Blobs/><NextMarker/></EnumerationResults>", "x");
    EXPECT_TRUE(page.blobs.empty());
    EXPECT_TRUE(page.nextMarker.empty());
}

TEST(AzureBlobXml, NotAListingIsRepoStorageErrorNamingTheRequest) {
    try {
        parseListPage("<html>proxy error</html>", "List Blobs 'azure://c/repo'");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::RepoStorage);
        EXPECT_NE(std::string(e.what()).find("List Blobs 'azure://c/repo'"), std::string::npos)
            << e.what();
    }
}

TEST(AzureBlobXml, ParsesServiceErrorFirstLineOfMessage) {
    ServiceError e = parseServiceError(
        "<?xml version=\"1.0\" "
        "encoding=\"utf-8\"?><Error><Code>AuthenticationFailed</Code><Message>Server failed "
        "to authenticate the request.\nRequestId:1\nTime:2020</Message></Error>");
    EXPECT_EQ(e.code, "AuthenticationFailed");
    EXPECT_EQ(e.message, "Server failed to authenticate the request.");
    EXPECT_TRUE(parseServiceError("not xml").code.empty());
}

TEST(AzureBlobXml, BlockListInOrder) {
    EXPECT_EQ(blockListXml({"QQ==", "Qg=="}),
              "<?xml version=\"1.0\" "
              "encoding=\"utf-8\"?><BlockList><Latest>QQ==</Latest><Latest>Qg==</Latest>"
              "</BlockList>");
}

}  // namespace
}  // namespace backrest::storage::azure
