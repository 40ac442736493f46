// Composes filters over one stream: write() blocks in, the last stage's output goes to a sink.
// Observers see the bytes at their position in the chain (a SHA-256 placed before a compressor
// hashes the original bytes, one placed after hashes the repository bytes).
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "io/buffer.h"
#include "io/filter.h"

namespace backrest::io {

class FilterChain {
  public:
    using Sink = std::function<void(std::span<const uint8_t>)>;

    explicit FilterChain(Sink sink);

    // Adds a filter at the end of the chain and returns it, so the caller can read its
    // result (e.g. the checksum) after finish().
    template <typename F, typename... Args>
    F& add(Args&&... args) {
        auto filter = std::make_unique<F>(std::forward<Args>(args)...);
        F& ref = *filter;
        push(std::move(filter));
        return ref;
    }
    void push(std::unique_ptr<Filter> filter);  // nullptr is ignored (e.g. compress-type=none)

    void write(std::span<const uint8_t> in);
    // Reading without a copy: when the first transformer offers an input buffer of its own and
    // only observers precede it, the space the next input may be read into (else empty: use
    // write()). commitInput(n) passes its first n bytes on, observers seeing them in place.
    std::span<uint8_t> inputSpace();
    void commitInput(size_t n);
    // Flushes every stage in order; no write() after this.
    void finish();

  private:
    void run(size_t stage, std::span<const uint8_t> in, bool finishing);

    Sink sink_;
    std::vector<std::unique_ptr<Filter>> filters_;
    std::vector<Buffer> outputs_;  // one scratch buffer per transforming stage
    bool finished_ = false;
};

}  // namespace backrest::io
