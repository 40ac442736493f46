#include "crypto/key_envelope.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>

#include "common/error.h"
#include "crypto/openssl_util.h"

namespace backrest::crypto {

namespace {

constexpr size_t kSaltBytes = 16;
constexpr size_t kNonceBytes = 12;
constexpr size_t kTagBytes = 16;
// Bounds on what an envelope may ask of the KDF: an altered envelope must not make a command
// allocate gigabytes or run for hours before it fails.
constexpr uint64_t kMaxScryptN = 1u << 20;
constexpr uint32_t kMaxScryptR = 32;
constexpr uint32_t kMaxScryptP = 16;

std::string associatedData(const KeyEnvelope& e) {
    return fmt::format("backrest envelope v1|{}|{}|{}|{}|{}|{}|{}|{}", e.cipherType, e.kdf,
                       e.scryptN, e.scryptR, e.scryptP, e.salt, e.generation, e.keyId);
}

std::array<uint8_t, 32> keyEncryptionKey(const KeyEnvelope& e, std::string_view passphrase,
                                         const std::string& context) {
    if (passphrase.empty())
        raise(ErrorCode::Option,
              "{}: repo1-cipher-pass is empty: an encrypted repository needs a passphrase",
              context);
    bool ok = false;
    std::vector<uint8_t> salt = fromHex(e.salt, ok);
    if (!ok || salt.size() != kSaltBytes)
        raise(ErrorCode::Format, "{}: the key envelope's salt is not {} bytes of hex", context,
              kSaltBytes);
    std::array<uint8_t, 32> kek{};
    uint64_t maxMemory = 128 * e.scryptN * e.scryptR * (e.scryptP + 1) + (1u << 20);
    if (EVP_PBE_scrypt(passphrase.data(), passphrase.size(), salt.data(), salt.size(), e.scryptN,
                       e.scryptR, e.scryptP, maxMemory, kek.data(), kek.size()) != 1)
        raiseOpenssl(context + ": scrypt");
    return kek;
}

}  // namespace

nlohmann::json KeyEnvelope::toJson() const {
    return {{"cipher", cipherType},     {"kdf", kdf},          {"scrypt-n", scryptN},
            {"scrypt-r", scryptR},      {"scrypt-p", scryptP}, {"salt", salt},
            {"generation", generation}, {"key-id", keyId},     {"wrapped", wrapped}};
}

KeyEnvelope KeyEnvelope::fromJson(const nlohmann::json& doc, const std::string& context) {
    KeyEnvelope e;
    try {
        e.cipherType = doc.at("cipher").get<std::string>();
        e.kdf = doc.at("kdf").get<std::string>();
        e.scryptN = doc.at("scrypt-n").get<uint64_t>();
        e.scryptR = doc.at("scrypt-r").get<uint32_t>();
        e.scryptP = doc.at("scrypt-p").get<uint32_t>();
        e.salt = doc.at("salt").get<std::string>();
        e.generation = doc.at("generation").get<uint64_t>();
        e.keyId = doc.at("key-id").get<std::string>();
        e.wrapped = doc.at("wrapped").get<std::string>();
    } catch (const nlohmann::json::exception& x) {
        raise(ErrorCode::Format, "{}: the key envelope is malformed ({})", context, x.what());
    }
    if (e.cipherType != "aes-256-gcm")
        raise(ErrorCode::Crypto,
              "{}: the repository is encrypted with '{}', which this version does not know",
              context, e.cipherType);
    if (e.kdf != "scrypt")
        raise(ErrorCode::Crypto,
              "{}: the repository key is wrapped with KDF '{}', which this version does not know",
              context, e.kdf);
    if (e.scryptN < 2 || (e.scryptN & (e.scryptN - 1)) != 0 || e.scryptN > kMaxScryptN ||
        e.scryptR == 0 || e.scryptR > kMaxScryptR || e.scryptP == 0 || e.scryptP > kMaxScryptP)
        raise(ErrorCode::Format,
              "{}: the key envelope's scrypt parameters (N={}, r={}, p={}) are out of range",
              context, e.scryptN, e.scryptR, e.scryptP);
    return e;
}

KeyEnvelope wrapKey(const RepoKey& key, std::string_view passphrase, uint64_t generation) {
    KeyEnvelope e;
    std::array<uint8_t, kSaltBytes> salt{};
    randomBytes(salt);
    e.salt = toHex(salt);
    e.generation = generation;
    e.keyId = key.id();
    auto kek = keyEncryptionKey(e, passphrase, "wrapping the repository key");
    std::string aad = associatedData(e);

    std::array<uint8_t, kNonceBytes + kRepoKeyBytes + kTagBytes> wrapped{};
    randomBytes({wrapped.data(), kNonceBytes});
    CipherContext gcm;
    EVP_CIPHER_CTX* ctx = gcm.get();
    int n = 0;
    bool ok =
        EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, kek.data(), wrapped.data()) == 1 &&
        EVP_EncryptUpdate(ctx, nullptr, &n, reinterpret_cast<const uint8_t*>(aad.data()),
                          static_cast<int>(aad.size())) == 1 &&
        EVP_EncryptUpdate(ctx, wrapped.data() + kNonceBytes, &n, key.bytes().data(),
                          static_cast<int>(kRepoKeyBytes)) == 1 &&
        EVP_EncryptFinal_ex(ctx, wrapped.data() + kNonceBytes + kRepoKeyBytes, &n) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, kTagBytes,
                            wrapped.data() + kNonceBytes + kRepoKeyBytes) == 1;
    OPENSSL_cleanse(kek.data(), kek.size());
    if (!ok) raiseOpenssl("wrapping the repository key");
    e.wrapped = toHex(wrapped);
    return e;
}

std::shared_ptr<const RepoKey> unwrapKey(const KeyEnvelope& envelope, std::string_view passphrase,
                                         const std::string& context) {
    bool hexOk = false;
    std::vector<uint8_t> wrapped = fromHex(envelope.wrapped, hexOk);
    if (!hexOk || wrapped.size() != kNonceBytes + kRepoKeyBytes + kTagBytes)
        raise(ErrorCode::Format, "{}: the key envelope's wrapped key is not {} bytes of hex",
              context, kNonceBytes + kRepoKeyBytes + kTagBytes);
    auto kek = keyEncryptionKey(envelope, passphrase, context);
    std::string aad = associatedData(envelope);
    std::array<uint8_t, kRepoKeyBytes> plain{};
    CipherContext gcm;
    EVP_CIPHER_CTX* ctx = gcm.get();
    int n = 0;
    bool ok =
        EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, kek.data(), wrapped.data()) == 1 &&
        EVP_DecryptUpdate(ctx, nullptr, &n, reinterpret_cast<const uint8_t*>(aad.data()),
                          static_cast<int>(aad.size())) == 1 &&
        EVP_DecryptUpdate(ctx, plain.data(), &n, wrapped.data() + kNonceBytes,
                          static_cast<int>(kRepoKeyBytes)) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, kTagBytes,
                            wrapped.data() + kNonceBytes + kRepoKeyBytes) == 1 &&
        EVP_DecryptFinal_ex(ctx, plain.data() + kRepoKeyBytes, &n) == 1;
    OPENSSL_cleanse(kek.data(), kek.size());
    if (!ok) {
        OPENSSL_cleanse(plain.data(), plain.size());
        raise(ErrorCode::Crypto,
              "{}: repo1-cipher-pass does not open the repository key (key generation {}): the "
              "passphrase is "
              "wrong, or the key envelope was altered",
              context, envelope.generation);
    }
    auto key = std::make_shared<const RepoKey>(plain);
    OPENSSL_cleanse(plain.data(), plain.size());
    if (key->id() != envelope.keyId)
        raise(ErrorCode::Crypto,
              "{}: the unwrapped key is not key {} the envelope names (altered envelope)", context,
              envelope.keyId);
    return key;
}

}  // namespace backrest::crypto
