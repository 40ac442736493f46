// Independent zstd frames compressed on a small pool of threads and emitted in file order.
#include "io/zstd_frames.h"

#include <algorithm>
#include <cstring>

#include "common/error.h"
#include "io/frame_codec.h"

namespace backrest::io {

ZstdFramedCompressFilter::ZstdFramedCompressFilter(int level, size_t frameBytes, int workers,
                                                   FrameHook hook, CompressType type)
    : type_(type),
      level_(level),
      onExecutor_(workers > 0),
      frameBytes_(frameBytes),
      hook_(std::move(hook)),
      maxInFlight_(static_cast<size_t>(std::max(workers, 0)) + 1) {
    if (frameBytes_ == 0) raise(ErrorCode::Assert, "zstd frame size must be positive");
}

// The frames' tasks refer to this filter: none may run once it is gone.
ZstdFramedCompressFilter::~ZstdFramedCompressFilter() {
    for (auto& frame : inFlight_)
        if (frame->task) Executor::shared().abandon(frame->task);
}

// One-shot, on the thread's own context (io/frame_codec.h): no streaming window, so no copy of
// the input into zstd's buffer.
void ZstdFramedCompressFilter::compress(Frame& frame) {
    frame.output.clear();
    if (!hook_) {
        compressFrame(type_, level_, frame.input.span(), frame.output);
        return;
    }
    frame.compressed.clear();
    compressFrame(type_, level_, frame.input.span(), frame.compressed);
    hook_(frame.index, frame.compressed.span(), frame.output);
}

void ZstdFramedCompressFilter::submit() {
    filling_->index = submitted_++;
    if (!onExecutor_) {
        compress(*filling_);
    } else {
        Frame* frame = filling_.get();
        frame->task = Executor::shared().submit([this, frame] { compress(*frame); });
    }
    inFlight_.push_back(std::move(filling_));
}

void ZstdFramedCompressFilter::emitDone(Buffer& out, bool wait) {
    auto& executor = Executor::shared();
    while (!inFlight_.empty()) {
        auto& oldest = inFlight_.front();
        // Wait (or compress it here) when the caller must drain everything or too many frames
        // are held; otherwise only take what is done.
        if (oldest->task) {
            if (!wait && inFlight_.size() < maxInFlight_ && !executor.finished(oldest->task))
                return;
            // While a worker compresses the oldest, compress a later frame no worker took,
            // rather than sleep: the caller is one of the budget's threads.
            if (!executor.finished(oldest->task) && helpWithQueuedFrame()) continue;
            auto task = std::move(oldest->task);
            executor.wait(task);  // rethrows the frame's failure
        }
        auto frame = std::move(inFlight_.front());
        inFlight_.pop_front();
        out.append(frame->output.span());
        frameSizes_.push_back(frame->output.size());
        // Keep the buffers for the next frame: a fresh 8 MiB allocation is fresh pages to fault in.
        frame->input.clear();
        frame->output.clear();
        frame->compressed.clear();
        spare_.push_back(std::move(frame));
    }
}

bool ZstdFramedCompressFilter::helpWithQueuedFrame() {
    for (auto& frame : inFlight_)
        if (frame->task && Executor::shared().runIfQueued(frame->task)) return true;
    return false;
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
