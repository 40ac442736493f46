// The repository key wrapped under the passphrase, kept (in the clear, it reveals nothing) at
// the head of backup.info and archive.info and their copies:
//   KEK = scrypt(passphrase, salt, N, r, p)  (memory-hard: 16 MiB at the defaults, Percival's
//   "interactive" N=2^14, r=8, p=1: every command pays it once, archive-push and archive-get
//   once per segment; 85 ms here, 2^15 took 180 ms)
//   wrapped = nonce (12) | AES-256-GCM(KEK, nonce, repository key) | tag (16), with the cipher,
//   the KDF and its parameters, the generation and the key id as associated data: an altered
//   envelope opens with no passphrase.
// A rekey writes a new envelope (new salt, generation + 1) around the same repository key; the
// envelope of the highest generation present is the one that counts (repo/repo_cipher.h).
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "crypto/repo_key.h"

namespace backrest::crypto {

struct KeyEnvelope {
    std::string cipherType = "aes-256-gcm";
    std::string kdf = "scrypt";
    uint64_t scryptN = 1u << 14;
    uint32_t scryptR = 8;
    uint32_t scryptP = 1;
    std::string salt;         // hex, 16 bytes
    uint64_t generation = 1;  // 1 at stanza-create, + 1 at each rekey
    std::string keyId;        // RepoKey::id() of the wrapped key
    std::string wrapped;      // hex: nonce | ciphertext | tag

    nlohmann::json toJson() const;
    // FormatError naming `context` when a field is missing or malformed; CryptoError for a
    // cipher or KDF this version does not know.
    static KeyEnvelope fromJson(const nlohmann::json& doc, const std::string& context);
};

// Wraps `key` under `passphrase` with a fresh salt and nonce.
KeyEnvelope wrapKey(const RepoKey& key, std::string_view passphrase, uint64_t generation);
// The key, or CryptoError naming `context`: the passphrase does not open the envelope (wrong
// passphrase, or an envelope altered since it was written).
std::shared_ptr<const RepoKey> unwrapKey(const KeyEnvelope& envelope, std::string_view passphrase,
                                         const std::string& context);

}  // namespace backrest::crypto
