// SHA-256 observer filter (OpenSSL EVP, which uses SHA-NI where the CPU has it).
#pragma once

#include <array>
#include <memory>
#include <string>

#include "io/filter.h"

namespace backrest::io {

class Sha256Filter : public Filter {
public:
    Sha256Filter();
    ~Sha256Filter() override;
    bool transforms() const override { return false; }
    void process(std::span<const uint8_t> in, Buffer& out) override;
    void finish(Buffer& out) override;
    // Lowercase hex digest; valid after finish().
    const std::string& hex() const { return hex_; }

private:
    struct Context;
    std::unique_ptr<Context> ctx_;
    std::string hex_;
};

// One-shot digest of a buffer, lowercase hex.
std::string sha256Hex(std::span<const uint8_t> bytes);
std::string sha256Hex(std::string_view text);

}  // namespace backrest::io
