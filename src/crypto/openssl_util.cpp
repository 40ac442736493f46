#include "crypto/openssl_util.h"

#include <openssl/err.h>
#include <openssl/rand.h>

#include "common/error.h"

namespace backrest::crypto {

std::string opensslError() {
    unsigned long code = ERR_get_error();
    ERR_clear_error();
    if (code == 0) return "unknown OpenSSL error";
    char text[256];
    ERR_error_string_n(code, text, sizeof(text));
    return text;
}

void raiseOpenssl(std::string_view what) {
    raise(ErrorCode::Crypto, "{}: {}", what, opensslError());
}

std::string toHex(std::span<const uint8_t> bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (uint8_t b : bytes) {
        out += kDigits[b >> 4];
        out += kDigits[b & 0xf];
    }
    return out;
}

std::vector<uint8_t> fromHex(std::string_view hex, bool& ok) {
    auto digit = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    std::vector<uint8_t> out;
    ok = hex.size() % 2 == 0;
    for (size_t i = 0; ok && i < hex.size(); i += 2) {
        int hi = digit(hex[i]), lo = digit(hex[i + 1]);
        if (hi < 0 || lo < 0)
            ok = false;
        else
            out.push_back(static_cast<uint8_t>(hi << 4 | lo));
    }
    if (!ok) out.clear();
    return out;
}

void randomBytes(std::span<uint8_t> out) {
    if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) raiseOpenssl("random bytes");
}

CipherContext::CipherContext() : ctx_(EVP_CIPHER_CTX_new()) {
    if (!ctx_) raiseOpenssl("EVP_CIPHER_CTX_new");
}

}  // namespace backrest::crypto
