// Growth of the filter chain's scratch buffers (no zero-fill: filters overwrite the tail).
#include "io/buffer.h"

#include <stdlib.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <limits>
#include <new>

#include "common/error.h"

namespace backrest::io {

namespace {
constexpr size_t kHugePage = 2u << 20;  // x86-64's transparent huge page
}  // namespace

void Buffer::Free::operator()(uint8_t* p) const {
    ::free(p);
}

void Buffer::reserve(size_t capacity) {
    if (capacity <= capacity_) return;
    // Not value-initialised, so growing to a few MiB per block does not memset memory that zstd
    // or the caller is about to overwrite anyway. A large buffer is page-aligned, for O_DIRECT
    // writes; a small one is not, so that it does not cost a page.
    const bool huge = pages_ == Pages::Huge && capacity >= kHugePage;
    const size_t alignment = huge                      ? kHugePage
                             : capacity >= (64u << 10) ? 4096
                                                       : alignof(std::max_align_t);
    void* memory = nullptr;
    if (::posix_memalign(&memory, alignment, capacity) != 0) throw std::bad_alloc();
    if (huge) ::madvise(memory, capacity / kHugePage * kHugePage, MADV_HUGEPAGE);  // advice only
    std::unique_ptr<uint8_t[], Free> grown(static_cast<uint8_t*>(memory));
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
