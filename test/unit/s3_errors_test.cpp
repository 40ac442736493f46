// How S3's error replies become backrest's errors: refused credentials (RepoAuth, naming the
// repository and S3's code, never the secret), a quota (RepoStorage saying so), the rest
// (RepoStorage with S3's Code and Message). Bodies as radosgw sends them.
#include <gtest/gtest.h>

#include "common/error.h"
#include "storage/s3/s3_storage.h"

namespace backrest::storage::s3 {
namespace {

Error raised(const std::string& code, long status) {
    S3Settings s;
    s.bucket = "bkt";
    s.endpoint = "s3.example.org";
    s.port = 9443;
    s.credentials = {"AKIDKEY", "very-secret-value", "session-token-value"};
    S3Storage storage(s);  // no request is made
    http::Response response;
    response.status = status;
    response.body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>" + code +
                    "</Code><Message>the message</Message><RequestId>tx1</RequestId></Error>";
    try {
        storage.raiseFor(response, "PUT 's3://bkt/repo/x'");
    } catch (const Error& e) {
        return e;
    }
    return Error(ErrorCode::Assert, "nothing raised");
}

TEST(S3Errors, RefusedCredentialsAreRepoAuthNamingTheRepository) {
    for (const char* code : {"SignatureDoesNotMatch", "InvalidAccessKeyId"}) {
        Error e = raised(code, 403);
        std::string m = e.what();
        EXPECT_EQ(e.code(), ErrorCode::RepoAuth) << m;
        EXPECT_NE(m.find("s3://bkt at s3.example.org:9443"), std::string::npos) << m;
        EXPECT_NE(m.find(code), std::string::npos) << m;
        EXPECT_NE(m.find("repo1-s3-key-secret"), std::string::npos) << m;
        EXPECT_EQ(m.find("very-secret-value"), std::string::npos) << m;
        EXPECT_EQ(m.find("session-token-value"), std::string::npos) << m;
    }
}

TEST(S3Errors, QuotaExceededSaysSo) {
    Error e = raised("QuotaExceeded", 403);
    std::string m = e.what();
    EXPECT_EQ(e.code(), ErrorCode::RepoStorage) << m;
    EXPECT_NE(m.find("out of quota"), std::string::npos) << m;
    EXPECT_NE(m.find("PUT 's3://bkt/repo/x'"), std::string::npos) << m;
}

TEST(S3Errors, OtherErrorsCarryCodeAndMessage) {
    Error e = raised("InvalidObjectState", 403);
    std::string m = e.what();
    EXPECT_EQ(e.code(), ErrorCode::RepoStorage) << m;
    EXPECT_NE(m.find("HTTP 403 (S3 error InvalidObjectState: the message)"), std::string::npos)
        << m;
}

TEST(S3Errors, AMissingBucketIsNamedWithWhatToCheck) {
    Error e = raised("NoSuchBucket", 404);
    std::string m = e.what();
    EXPECT_EQ(e.code(), ErrorCode::RepoStorage) << m;
    EXPECT_NE(m.find("has no bucket 'bkt' (S3 error NoSuchBucket)"), std::string::npos) << m;
    EXPECT_NE(m.find("repo1-s3-bucket"), std::string::npos) << m;
}

}  // namespace
}  // namespace backrest::storage::s3
