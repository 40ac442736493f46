#include "crypto/repo_key.h"

#include <openssl/crypto.h>

#include "common/error.h"
#include "crypto/openssl_util.h"
#include "io/sha256.h"

namespace backrest::crypto {

std::shared_ptr<const RepoKey> RepoKey::generate() {
    std::array<uint8_t, kRepoKeyBytes> bytes{};
    randomBytes(bytes);
    auto key = std::make_shared<const RepoKey>(bytes);
    OPENSSL_cleanse(bytes.data(), bytes.size());
    return key;
}

RepoKey::RepoKey(std::span<const uint8_t> bytes) {
    if (bytes.size() != kRepoKeyBytes)
        raise(ErrorCode::Crypto, "a repository key is {} bytes, not {}", kRepoKeyBytes,
              bytes.size());
    std::copy(bytes.begin(), bytes.end(), bytes_.begin());
    // Hashed with a label of its own: the id says nothing about the keys derived from the key.
    std::string labelled = "backrest key id v1:";
    labelled.append(reinterpret_cast<const char*>(bytes_.data()), bytes_.size());
    id_ = io::sha256Hex(labelled).substr(0, 16);
    OPENSSL_cleanse(labelled.data(), labelled.size());
}

RepoKey::~RepoKey() {
    OPENSSL_cleanse(bytes_.data(), bytes_.size());
}

}  // namespace backrest::crypto
