// The repository key: 32 random bytes from which the key of every sealed unit is derived
// (crypto/sealed.h). It lives in memory only, wiped when dropped; the repository keeps it only
// wrapped under the passphrase (crypto/key_envelope.h), so changing the passphrase re-wraps
// these 32 bytes and touches no data file.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace backrest::crypto {

constexpr size_t kRepoKeyBytes = 32;

class RepoKey {
  public:
    // A new key from OpenSSL's CSPRNG (stanza-create of an encrypted repository).
    static std::shared_ptr<const RepoKey> generate();
    // CryptoError unless exactly kRepoKeyBytes.
    explicit RepoKey(std::span<const uint8_t> bytes);
    ~RepoKey();
    RepoKey(const RepoKey&) = delete;
    RepoKey& operator=(const RepoKey&) = delete;

    std::span<const uint8_t> bytes() const { return bytes_; }
    // A public name for the key (16 hex digits of SHA-256 over a label and the key): recorded in
    // the envelope, shown by info, so two repositories' keys are told apart without the key.
    const std::string& id() const { return id_; }

  private:
    std::array<uint8_t, kRepoKeyBytes> bytes_{};
    std::string id_;
};

}  // namespace backrest::crypto
