// The crypto helpers (crypto/openssl_util.h): hex both ways (a key envelope's fields are hex, and
// a damaged one must be refused, not half read), and OpenSSL's error queue in a CryptoError.
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <string>
#include <vector>

#include "common/error.h"
#include "crypto/openssl_util.h"
#include "test/unit/test_support.h"

using namespace backrest;
using namespace backrest::crypto;
using backrest::test::errorOf;
using backrest::test::has;

TEST(CryptoOpensslUtil, HexRoundTrip) {
    std::vector<uint8_t> bytes{0x00, 0x0f, 0x10, 0x7f, 0x80, 0xab, 0xff};
    EXPECT_EQ(toHex(bytes), "000f107f80abff");
    EXPECT_EQ(toHex({}), "");
    bool ok = false;
    EXPECT_EQ(fromHex("000f107f80abff", ok), bytes);
    EXPECT_TRUE(ok);
    EXPECT_EQ(fromHex("000F107F80ABFF", ok), bytes);  // either case
    EXPECT_TRUE(ok);
    EXPECT_TRUE(fromHex("", ok).empty());
    EXPECT_TRUE(ok);
}

TEST(CryptoOpensslUtil, MalformedHexIsRefusedWhole) {
    for (const char* bad : {"abc", "0g", "zz00", "00 1", "-1"}) {
        bool ok = true;
        EXPECT_TRUE(fromHex(bad, ok).empty()) << bad;
        EXPECT_FALSE(ok) << bad;
    }
}

TEST(CryptoOpensslUtil, RandomBytesDiffer) {
    std::vector<uint8_t> a(32), b(32);
    randomBytes(a);
    randomBytes(b);
    EXPECT_NE(a, b);
}

// The oldest queued error is reported and the queue left empty for the next call.
TEST(CryptoOpensslUtil, OpensslErrorsAreNamedAndCleared) {
    ERR_clear_error();
    EXPECT_EQ(opensslError(), "unknown OpenSSL error");
    // A failing call queues an error of its own.
    EXPECT_EQ(EVP_get_cipherbyname("no-such-cipher"), nullptr);
    CipherContext ctx;
    EXPECT_NE(EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr), 1);
    Error e = errorOf([] { raiseOpenssl("unseal key envelope"); });
    EXPECT_EQ(e.code(), ErrorCode::Crypto);
    EXPECT_TRUE(has(e.what(), "unseal key envelope: error:")) << e.what();
    EXPECT_EQ(opensslError(), "unknown OpenSSL error");
}
