// SHA-256 over OpenSSL's EVP interface, as a chain observer and as a one-shot helper.
#include "io/sha256.h"

#include <openssl/evp.h>

#include "common/error.h"

namespace backrest::io {

struct Sha256Filter::Context {
    EVP_MD_CTX* md = nullptr;
    ~Context() { EVP_MD_CTX_free(md); }
};

Sha256Filter::Sha256Filter() : ctx_(std::make_unique<Context>()) {
    ctx_->md = EVP_MD_CTX_new();
    if (ctx_->md == nullptr) raise(ErrorCode::Crypto, "unable to allocate SHA-256 context");
    if (EVP_DigestInit_ex(ctx_->md, EVP_sha256(), nullptr) != 1) {
        raise(ErrorCode::Crypto, "unable to initialise SHA-256 digest");
    }
}

Sha256Filter::~Sha256Filter() = default;

void Sha256Filter::process(std::span<const uint8_t> in, Buffer&) {
    if (!hex_.empty()) raise(ErrorCode::Assert, "SHA-256 updated after finish()");
    if (in.empty()) return;
    if (EVP_DigestUpdate(ctx_->md, in.data(), in.size()) != 1) {
        raise(ErrorCode::Crypto, "SHA-256 update failed");
    }
}

void Sha256Filter::finish(Buffer&) {
    if (!hex_.empty()) return;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_DigestFinal_ex(ctx_->md, digest, &length) != 1) {
        raise(ErrorCode::Crypto, "SHA-256 finalisation failed");
    }
    static constexpr char kDigits[] = "0123456789abcdef";
    hex_.reserve(length * 2);
    for (unsigned int i = 0; i < length; ++i) {
        hex_.push_back(kDigits[digest[i] >> 4]);
        hex_.push_back(kDigits[digest[i] & 0x0f]);
    }
}

std::string sha256Hex(std::span<const uint8_t> bytes) {
    Sha256Filter filter;
    Buffer unused;
    filter.process(bytes, unused);
    filter.finish(unused);
    return filter.hex();
}

std::string sha256Hex(std::string_view text) {
    return sha256Hex(std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

}  // namespace backrest::io
