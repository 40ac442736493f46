// Independent zstd frames compressed on a small pool of threads and emitted in file order.
#include "io/zstd_frames.h"

#include <algorithm>
#include <cstring>

#include "common/error.h"
#include "io/frame_codec.h"

namespace backrest::io {

ZstdFramedCompressFilter::ZstdFramedCompressFilter(int level, size_t frameBytes, int workers,
                                                   FrameHook hook)
    : level_(level),
      frameBytes_(frameBytes),
      hook_(std::move(hook)),
      maxInFlight_(static_cast<size_t>(std::max(workers, 0)) + 1) {
    if (frameBytes_ == 0) raise(ErrorCode::Assert, "zstd frame size must be positive");
    try {
        for (int i = 0; i < workers; i++) workers_.emplace_back([this] { workerLoop(); });
    } catch (...) {
        stop();  // the destructor does not run for a constructor that throws
        throw;
    }
}

ZstdFramedCompressFilter::~ZstdFramedCompressFilter() {
    stop();
}

void ZstdFramedCompressFilter::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    changed_.notify_all();
    for (auto& t : workers_)
        if (t.joinable()) t.join();
    workers_.clear();
}

// One-shot, on the thread's own context (io/frame_codec.h): no streaming window, so no copy of
// the input into zstd's buffer.
void ZstdFramedCompressFilter::compress(Frame& frame) {
    frame.output.clear();
    if (!hook_) {
        compressFrame(CompressType::Zst, level_, frame.input.span(), frame.output);
        return;
    }
    frame.compressed.clear();
    compressFrame(CompressType::Zst, level_, frame.input.span(), frame.compressed);
    hook_(frame.index, frame.compressed.span(), frame.output);
}

void ZstdFramedCompressFilter::workerLoop() {
    std::unique_lock lock(mutex_);
    for (;;) {
        changed_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping
        Frame* frame = queue_.front();
        queue_.pop_front();
        lock.unlock();
        std::exception_ptr error;
        try {
            compress(*frame);
        } catch (...) {
            error = std::current_exception();
        }
        lock.lock();
        frame->error = error;
        frame->done = true;
        changed_.notify_all();
    }
}

void ZstdFramedCompressFilter::submit() {
    filling_->index = submitted_++;
    if (workers_.empty()) {
        compress(*filling_);
        filling_->done = true;
        std::lock_guard lock(mutex_);
        inFlight_.push_back(std::move(filling_));
        return;
    }
    std::lock_guard lock(mutex_);
    queue_.push_back(filling_.get());
    inFlight_.push_back(std::move(filling_));
    changed_.notify_all();
}

void ZstdFramedCompressFilter::emitDone(Buffer& out, bool wait) {
    std::unique_lock lock(mutex_);
    for (;;) {
        // Wait while the oldest frame is being compressed and either the caller must drain
        // everything or too many frames are held.
        if (wait || inFlight_.size() >= maxInFlight_)
            changed_.wait(lock, [&] { return inFlight_.empty() || inFlight_.front()->done; });
        if (inFlight_.empty() || !inFlight_.front()->done) return;
        auto frame = std::move(inFlight_.front());
        inFlight_.pop_front();
        lock.unlock();
        if (frame->error) std::rethrow_exception(frame->error);
        out.append(frame->output.span());
        frameSizes_.push_back(frame->output.size());
        // Keep the buffers for the next frame: a fresh 8 MiB allocation is fresh pages to fault in.
        frame->input.clear();
        frame->output.clear();
        frame->compressed.clear();
        frame->done = false;
        spare_.push_back(std::move(frame));
        lock.lock();
    }
}

void ZstdFramedCompressFilter::startFrame() {
    if (filling_) return;
    if (spare_.empty()) {
        filling_ = std::make_unique<Frame>();
        filling_->input.reserve(frameBytes_);
    } else {
        filling_ = std::move(spare_.back());
        spare_.pop_back();
    }
}

std::span<uint8_t> ZstdFramedCompressFilter::inputSpace() {
    startFrame();
    return {filling_->input.tail(), frameBytes_ - filling_->input.size()};
}

void ZstdFramedCompressFilter::commitInput(size_t n, Buffer& out) {
    if (n == 0) return;
    sawInput_ = true;
    filling_->input.commit(n);
    if (filling_->input.size() == frameBytes_) {
        submit();
        emitDone(out, false);
    }
}

void ZstdFramedCompressFilter::process(std::span<const uint8_t> in, Buffer& out) {
    while (!in.empty()) {
        sawInput_ = true;
        startFrame();
        size_t take = std::min(in.size(), frameBytes_ - filling_->input.size());
        filling_->input.append(in.first(take));
        in = in.subspan(take);
        if (filling_->input.size() == frameBytes_) {
            submit();
            emitDone(out, false);
        }
    }
}

void ZstdFramedCompressFilter::finish(Buffer& out) {
    // An empty file is still one (empty) frame, like the streaming filter writes, so that zero
    // stored bytes always mean a truncated repository file.
    if (filling_ && (!filling_->input.empty() || !sawInput_))
        submit();
    else if (!filling_ && !sawInput_) {
        filling_ = std::make_unique<Frame>();
        submit();
    }
    emitDone(out, true);
}

}  // namespace backrest::io
