// Background writing of decompressed frames, from a bounded pool of buffers.
#include "repo/frame_writer.h"

#include <algorithm>

namespace backrest::repo {

FrameWriter::FrameWriter(size_t buffers, size_t threads)
    : queue_(threads, [this](Pending& item) { writeOne(item); }) {
    // On huge pages: each is written with O_DIRECT again and again (io::Buffer::Pages).
    for (size_t i = 0; i < std::max<size_t>(buffers, 1); i++)
        free_.push_back(std::make_unique<io::Buffer>(io::Buffer::Pages::Huge));
}

// The queue's destructor (first, as the last member) waits for the queued writes.
FrameWriter::~FrameWriter() = default;

std::unique_ptr<io::Buffer> FrameWriter::take() {
    std::unique_lock lock(mutex_);
    bufferFree_.wait(lock, [&] { return !free_.empty(); });
    auto buffer = std::move(free_.back());
    free_.pop_back();
    buffer->clear();
    return buffer;
}

bool FrameWriter::hasFreeBuffer() {
    std::lock_guard lock(mutex_);
    return !free_.empty();
}

void FrameWriter::giveBack(std::unique_ptr<io::Buffer> buffer) {
    if (!buffer) return;
    {
        std::lock_guard lock(mutex_);
        free_.push_back(std::move(buffer));
    }
    bufferFree_.notify_all();
}

void FrameWriter::write(storage::StorageWrite& out, uint64_t offset,
                        std::unique_ptr<io::Buffer> bytes, Done done) {
    Pending item{&out, offset, std::move(bytes), std::move(done)};
    try {
        queue_.push(std::move(item));
    } catch (...) {
        giveBack(std::move(item.bytes));  // an earlier write failed: this frame is not written
        throw;
    }
}

// On a queue thread. The write's error goes to done first (the frame's owner learns which frame
// failed), then to the queue (the caller learns that one did).
void FrameWriter::writeOne(Pending& item) {
    std::exception_ptr error;
    try {
        item.out->writeAt(item.offset, item.bytes->span());
    } catch (...) {
        error = std::current_exception();
    }
    try {
        item.done(item.bytes, error);
    } catch (...) {
        if (!error) error = std::current_exception();
    }
    giveBack(std::move(item.bytes));
    if (error) std::rethrow_exception(error);
}

void FrameWriter::finish() {
    queue_.finish();
}

}  // namespace backrest::repo
