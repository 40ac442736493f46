// A growable byte buffer that does not zero-fill on growth: filters write straight into its
// free tail (ensureFree + commit), so a block passes through the chain without extra copies.
// From 64 KiB on, its data starts on a 4 KiB boundary, so a whole buffer can be written with
// O_DIRECT (a restore writing a decompressed frame, storage::WriteOptions::direct).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace backrest::io {

class Buffer {
  public:
    // Huge: from 2 MiB on, the buffer is aligned to and advised for transparent huge pages
    // (madvise, where the kernel offers them). For buffers written with O_DIRECT again and
    // again: the kernel pins a huge page's memory for each write at once instead of 512 pages
    // (a restore's frame buffers: 0.87x wall at process-max 1, 0.79x at 2). Not the default:
    // a huge page fault may wait for the kernel to compact memory, which the archive path
    // must not.
    enum class Pages { Normal, Huge };

    Buffer() = default;
    explicit Buffer(Pages pages) : pages_(pages) {}
    explicit Buffer(size_t capacity) { reserve(capacity); }

    uint8_t* data() { return data_.get(); }
    const uint8_t* data() const { return data_.get(); }
    size_t size() const { return size_; }
    size_t capacity() const { return capacity_; }
    bool empty() const { return size_ == 0; }
    std::span<const uint8_t> span() const { return {data_.get(), size_}; }

    void clear() { size_ = 0; }
    void reserve(size_t capacity);
    // Guarantees at least n writable bytes after size(); returns a pointer to them.
    uint8_t* ensureFree(size_t n);
    size_t freeSize() const { return capacity_ - size_; }
    uint8_t* tail() { return data_.get() + size_; }
    // Marks n bytes written into the free tail as part of the buffer.
    void commit(size_t n) { size_ += n; }
    void append(std::span<const uint8_t> bytes);

  private:
    struct Free {
        void operator()(uint8_t* p) const;
    };
    std::unique_ptr<uint8_t[], Free> data_;
    size_t size_ = 0;
    size_t capacity_ = 0;
    Pages pages_ = Pages::Normal;
};

}  // namespace backrest::io
