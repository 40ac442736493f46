// SigV4 against AWS's published examples: known input, known signature. A signature bug shows
// here before a server refuses it.
#include <gtest/gtest.h>

#include "storage/s3/sigv4.h"

namespace backrest::storage::s3 {
namespace {

constexpr const char* kEmptyHash =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// AWS Signature Version 4 test suite, "get-vanilla": GET / on example.amazonaws.com.
TEST(S3SigV4, TestSuiteGetVanilla) {
    SigV4 signer({"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""}, "us-east-1",
                 "service");
    CanonicalRequest request{
        "GET",
        "/",
        "",
        {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}},
        kEmptyHash};
    EXPECT_EQ(signer.authorization(request, "20150830T123600Z"),
              "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request,"
              "SignedHeaders=host;x-amz-date,"
              "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

// "get-vanilla-query-order-key-case": ?Param2=value2&Param1=value1 is signed sorted.
TEST(S3SigV4, TestSuiteQueryOrder) {
    SigV4 signer({"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""}, "us-east-1",
                 "service");
    std::string query = canonicalQuery({{"Param2", "value2"}, {"Param1", "value1"}});
    EXPECT_EQ(query, "Param1=value1&Param2=value2");
    CanonicalRequest request{
        "GET",
        "/",
        query,
        {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}},
        kEmptyHash};
    EXPECT_NE(
        signer.authorization(request, "20150830T123600Z")
            .find("Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"),
        std::string::npos);
}

// Amazon S3 API reference, "Example: GET Object": the first 10 bytes of test.txt.
TEST(S3SigV4, S3GetObjectExample) {
    SigV4 signer({"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""},
                 "us-east-1");
    CanonicalRequest request{"GET",
                             "/test.txt",
                             "",
                             {{"Host", "examplebucket.s3.amazonaws.com"},
                              {"Range", "bytes=0-9"},
                              {"x-amz-content-sha256", kEmptyHash},
                              {"x-amz-date", "20130524T000000Z"}},
                             kEmptyHash};
    EXPECT_EQ(signer.authorization(request, "20130524T000000Z"),
              "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
              "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
              "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

// Amazon S3 API reference, "Example: GET Bucket (List Objects)": ?max-keys=2&prefix=J.
TEST(S3SigV4, S3ListObjectsExample) {
    SigV4 signer({"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""},
                 "us-east-1");
    CanonicalRequest request{"GET",
                             "/",
                             canonicalQuery({{"prefix", "J"}, {"max-keys", "2"}}),
                             {{"Host", "examplebucket.s3.amazonaws.com"},
                              {"x-amz-content-sha256", kEmptyHash},
                              {"x-amz-date", "20130524T000000Z"}},
                             kEmptyHash};
    EXPECT_NE(
        signer.authorization(request, "20130524T000000Z")
            .find("Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"),
        std::string::npos);
}

// What radosgw refused from curl's own SigV4: a parameter without a value keeps its '=', and
// names and values are encoded (space as %20, '/' as %2F) before they are sorted.
TEST(S3SigV4, CanonicalQueryEncodesAndKeepsEquals) {
    EXPECT_EQ(canonicalQuery({{"uploads", ""}}), "uploads=");
    EXPECT_EQ(canonicalQuery({{"prefix", "a b/c"}, {"list-type", "2"}, {"delimiter", "/"}}),
              "delimiter=%2F&list-type=2&prefix=a%20b%2Fc");
}

// sign() sets the date, the payload hash (always) and the token, and signs them all.
TEST(S3SigV4, SignAddsAmzHeadersAndToken) {
    SigV4 signer({"AKID", "secret", "the-token"}, "us-east-1");
    std::vector<std::pair<std::string, std::string>> headers{{"host", "example.com"}};
    signer.sign("GET", "/bucket/key", "", headers, kEmptyHash, 1369353600);  // 2013-05-24T00:00:00Z
    std::map<std::string, std::string> byName(headers.begin(), headers.end());
    EXPECT_EQ(byName["x-amz-date"], "20130524T000000Z");
    EXPECT_EQ(byName["x-amz-content-sha256"], kEmptyHash);
    EXPECT_EQ(byName["x-amz-security-token"], "the-token");
    EXPECT_NE(byName["Authorization"].find(
                  "SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,"),
              std::string::npos);
    EXPECT_EQ(byName["Authorization"].find("secret"), std::string::npos);
    // Signing again (a retry) replaces, not duplicates, the headers it adds.
    signer.sign("GET", "/bucket/key", "", headers, kEmptyHash, 1369353601);
    EXPECT_EQ(headers.size(), 5u);
}

}  // namespace
}  // namespace backrest::storage::s3
