// Small helpers the crypto files share: OpenSSL's error queue as a message, hex, and the
// cipher context as an owned object.
#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace backrest::crypto {

// The oldest error in OpenSSL's queue (cleared), or "unknown OpenSSL error".
std::string opensslError();
// CryptoError "<what>: <OpenSSL's error>".
[[noreturn]] void raiseOpenssl(std::string_view what);

std::string toHex(std::span<const uint8_t> bytes);
// nullopt-free: an empty vector when `hex` is not even-length lowercase/uppercase hex.
std::vector<uint8_t> fromHex(std::string_view hex, bool& ok);

// Random bytes from OpenSSL's CSPRNG; CryptoError when it has no entropy.
void randomBytes(std::span<uint8_t> out);

// An OpenSSL cipher context, freed with its owner.
class CipherContext {
  public:
    CipherContext();
    ~CipherContext() { EVP_CIPHER_CTX_free(ctx_); }
    CipherContext(const CipherContext&) = delete;
    CipherContext& operator=(const CipherContext&) = delete;
    EVP_CIPHER_CTX* get() { return ctx_; }

  private:
    EVP_CIPHER_CTX* ctx_;
};

}  // namespace backrest::crypto
