// The filter interface: one stage of the streaming chain (checksum, compression, size, ...).
// A file passes once through every filter of a chain, block by block.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "io/buffer.h"

namespace backrest::io {

class Filter {
  public:
    virtual ~Filter() = default;

    // A filter that only observes (checksum, size) returns false: the chain hands its input
    // unchanged to the next stage and never calls process() with an output buffer to fill.
    virtual bool transforms() const = 0;

    // Observers: look at the bytes. Transformers: consume all of `in`, append output to `out`.
    virtual void process(std::span<const uint8_t> in, Buffer& out) = 0;

    // Bounded form used by FilterChain for transformers: returns how many bytes of `in` were
    // consumed. A filter whose output can dwarf its input (decompression: a few KiB may expand
    // to GiBs) overrides this to stop once `out` holds `limit` bytes; the chain passes that on
    // and calls again with the rest of `in` (empty if all was consumed but output is pending)
    // until a call leaves `out` below `limit`. The default consumes everything via process().
    virtual size_t processSome(std::span<const uint8_t> in, Buffer& out, size_t limit) {
        (void)limit;
        if (!in.empty()) process(in, out);
        return in.size();
    }

    // Zero-copy input (a transformer that keeps its input in a buffer of its own, as the frame
    // compressor does): space the next input may be read straight into, empty when it offers
    // none; commitInput(n) then takes the first n bytes of it as input, as process() would.
    virtual std::span<uint8_t> inputSpace() { return {}; }
    virtual void commitInput(size_t n, Buffer& out) {
        (void)n;
        (void)out;
    }
    // End of input: transformers append any remaining output (and check the stream is
    // complete, e.g. a zstd frame not cut short).
    virtual void finish(Buffer& out) { (void)out; }
};

}  // namespace backrest::io
