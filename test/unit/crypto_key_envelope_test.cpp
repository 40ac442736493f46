// The key envelope (crypto/key_envelope.h): the passphrase opens it, nothing else does, and an
// envelope altered in any field opens with no passphrase.
#include <gtest/gtest.h>

#include "common/error.h"
#include "crypto/key_envelope.h"

using namespace backrest;
using namespace backrest::crypto;

namespace {

std::string errorOf(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return std::string(errorCodeName(e.code())) + ": " + e.what();
    }
    return "no error";
}

}  // namespace

TEST(CryptoKeyEnvelope, ThePassphraseOpensItAndNothingElse) {
    auto key = RepoKey::generate();
    KeyEnvelope e = wrapKey(*key, "correct horse", 1);
    EXPECT_EQ(e.keyId, key->id());
    EXPECT_EQ(e.keyId.size(), 16u);
    auto back = unwrapKey(KeyEnvelope::fromJson(e.toJson(), "b"), "correct horse", "b");
    EXPECT_TRUE(std::equal(back->bytes().begin(), back->bytes().end(), key->bytes().begin()));
    std::string wrong = errorOf([&] { unwrapKey(e, "correct horsf", "backup.info"); });
    EXPECT_NE(
        wrong.find("CryptoError: backup.info: repo1-cipher-pass does not open the repository key "
                   "(key generation 1)"),
        std::string::npos)
        << wrong;
    EXPECT_EQ(wrong.find("correct hors"), std::string::npos);  // no passphrase in errors
    EXPECT_NE(
        errorOf([&] { unwrapKey(e, "", "b"); }).find("OptionError: b: repo1-cipher-pass is empty"),
        std::string::npos);
}

TEST(CryptoKeyEnvelope, TheSameKeyWrappedTwiceLooksDifferent) {
    auto key = RepoKey::generate();
    KeyEnvelope a = wrapKey(*key, "p", 1), b = wrapKey(*key, "p", 2);
    EXPECT_NE(a.salt, b.salt);
    EXPECT_NE(a.wrapped, b.wrapped);
    EXPECT_EQ(a.keyId, b.keyId);
}

TEST(CryptoKeyEnvelope, AnAlteredEnvelopeOpensWithNoPassphrase) {
    auto key = RepoKey::generate();
    KeyEnvelope e = wrapKey(*key, "p", 3);
    auto expectRefused = [&](KeyEnvelope altered, const std::string& what) {
        std::string err = errorOf([&] { unwrapKey(altered, "p", "a.info"); });
        EXPECT_NE(err.find("a.info"), std::string::npos) << what << ": " << err;
        EXPECT_NE(err, "no error") << what;
    };
    KeyEnvelope g = e;
    g.generation = 4;  // a rekey's generation claimed without the passphrase
    expectRefused(g, "generation");
    KeyEnvelope w = e;
    w.wrapped[30] = w.wrapped[30] == '0' ? '1' : '0';
    expectRefused(w, "wrapped");
    KeyEnvelope s = e;
    s.salt[0] = s.salt[0] == '0' ? '1' : '0';
    expectRefused(s, "salt");
    KeyEnvelope i = e;
    i.keyId[0] = i.keyId[0] == '0' ? '1' : '0';
    expectRefused(i, "key id");
    KeyEnvelope n = e;
    n.scryptN = 1u << 13;
    expectRefused(n, "scrypt N");
}

TEST(CryptoKeyEnvelope, MalformedJsonIsNamed) {
    auto key = RepoKey::generate();
    auto doc = wrapKey(*key, "p", 1).toJson();
    auto missing = doc;
    missing.erase("salt");
    EXPECT_NE(errorOf([&] { KeyEnvelope::fromJson(missing, "x.info"); })
                  .find("FormatError: x.info: the key "
                        "envelope is malformed"),
              std::string::npos);
    auto cbc = doc;
    cbc["cipher"] = "aes-256-cbc";
    EXPECT_NE(
        errorOf([&] { KeyEnvelope::fromJson(cbc, "x.info"); }).find("encrypted with 'aes-256-cbc'"),
        std::string::npos);
    auto huge = doc;
    huge["scrypt-n"] = uint64_t{1}
                       << 30;  // a command must not allocate 128 GiB for a forged envelope
    EXPECT_NE(errorOf([&] { KeyEnvelope::fromJson(huge, "x.info"); }).find("out of range"),
              std::string::npos);
}
