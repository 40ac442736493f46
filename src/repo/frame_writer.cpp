// Background writing of decompressed frames, from a bounded pool of buffers.
#include "repo/frame_writer.h"

#include <algorithm>

namespace backrest::repo {

FrameWriter::FrameWriter(size_t buffers, size_t threads) {
    // On huge pages: each is written with O_DIRECT again and again (io::Buffer::Pages).
    for (size_t i = 0; i < std::max<size_t>(buffers, 1); i++)
        free_.push_back(std::make_unique<io::Buffer>(io::Buffer::Pages::Huge));
    for (size_t i = 0; i < std::max<size_t>(threads, 1); i++)
        threads_.emplace_back([this] { run(); });
}

FrameWriter::~FrameWriter() {
    {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return queue_.empty() && busy_ == 0; });
        stopping_ = true;
    }
    changed_.notify_all();
    for (auto& t : threads_) t.join();
}

std::unique_ptr<io::Buffer> FrameWriter::take() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return !free_.empty(); });
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
    changed_.notify_all();
}

void FrameWriter::write(storage::StorageWrite& out, uint64_t offset,
                        std::unique_ptr<io::Buffer> bytes, Done done) {
    {
        std::lock_guard lock(mutex_);
        if (failure_) {
            free_.push_back(std::move(bytes));
            changed_.notify_all();
            std::rethrow_exception(failure_);
        }
        queue_.push_back({&out, offset, std::move(bytes), std::move(done)});
    }
    changed_.notify_all();
}

void FrameWriter::run() {
    for (;;) {
        Pending item;
        {
            std::unique_lock lock(mutex_);
            changed_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) return;
            item = std::move(queue_.front());
            queue_.pop_front();
            busy_++;
        }
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
        {
            std::lock_guard lock(mutex_);
            if (item.bytes) free_.push_back(std::move(item.bytes));
            busy_--;
            if (error && !failure_) failure_ = error;
        }
        changed_.notify_all();
    }
}

void FrameWriter::finish() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return queue_.empty() && busy_ == 0; });
    if (failure_) std::rethrow_exception(failure_);
}

}  // namespace backrest::repo
