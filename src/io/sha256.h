// SHA-256 observer filter (OpenSSL EVP, which uses SHA-NI where the CPU has it).
#pragma once

#include <array>
#include <memory>
#include <string>

#include "io/filter.h"

namespace backrest::io {

class Sha256Filter : public Filter {
  public:
    // Where the hashing runs: on the caller's thread, or beside it on the shared executor when a
    // worker is free (the bytes are copied to it in 1 MiB pieces; common/executor.h). A large
    // file restored or backed up by one thread then decompresses or compresses on that thread
    // while the SHA-256 runs beside it, instead of one after the other: the largest file of a
    // cluster sets the floor of a parallel copy.
    enum class Thread { Caller, Own };
    explicit Sha256Filter(Thread thread = Thread::Caller);
    ~Sha256Filter() override;
    bool transforms() const override { return false; }
    void process(std::span<const uint8_t> in, Buffer& out) override;
    void finish(Buffer& out) override;
    // Lowercase hex digest; valid after finish().
    const std::string& hex() const { return hex_; }

  private:
    struct Context;
    struct Background;
    void update(std::span<const uint8_t> in);
    std::unique_ptr<Context> ctx_;
    std::unique_ptr<Background> background_;
    std::string hex_;
};

// One-shot digest of a buffer, lowercase hex.
std::string sha256Hex(std::span<const uint8_t> bytes);
std::string sha256Hex(std::string_view text);

}  // namespace backrest::io
