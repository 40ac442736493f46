// Growth of the filter chain's scratch buffers (no zero-fill: filters overwrite the tail).
#include "io/buffer.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "common/error.h"

namespace backrest::io {

void Buffer::reserve(size_t capacity) {
    if (capacity <= capacity_) return;
    // make_unique_for_overwrite skips value-initialisation, so growing to a few MiB per block
    // does not memset memory that zstd or the caller is about to overwrite anyway.
    auto grown = std::make_unique_for_overwrite<uint8_t[]>(capacity);
    if (size_ > 0) std::memcpy(grown.get(), data_.get(), size_);
    data_ = std::move(grown);
    capacity_ = capacity;
}

uint8_t* Buffer::ensureFree(size_t n) {
    if (freeSize() < n) {
        if (n > std::numeric_limits<size_t>::max() - size_) {
            raise(ErrorCode::Assert, "buffer size overflow ({} + {} bytes)", size_, n);
        }
        // Doubling keeps repeated small ensureFree() calls amortised O(1); the caller's block size
        // bounds how far it goes, since chains clear their buffers after every block.
        size_t doubled =
            capacity_ > std::numeric_limits<size_t>::max() / 2 ? size_ + n : capacity_ * 2;
        reserve(std::max(size_ + n, doubled));
    }
    return tail();
}

void Buffer::append(std::span<const uint8_t> bytes) {
    if (bytes.empty()) return;
    std::memcpy(ensureFree(bytes.size()), bytes.data(), bytes.size());
    commit(bytes.size());
}

}  // namespace backrest::io
