// zstd compression of a large file as a sequence of independent frames, each of a fixed number
// of original bytes (the last one shorter), compressed in parallel on threads of its own and
// written in order. The output is an ordinary zstd stream (concatenated frames: any zstd
// reader decompresses it whole; io::decompressFrame decodes one frame alone). The recorded
// compressed size of each frame lets a restore decompress the frames in parallel and write
// each at its own offset (frame k holds original bytes [k × frameBytes, (k + 1) × frameBytes)).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "io/filter.h"

namespace backrest::io {

class ZstdFramedCompressFilter : public Filter {
  public:
    // Applied to each frame once compressed, on the thread that compressed it: appends frame
    // `frameIndex`'s final stored bytes to `out` (repository encryption seals each frame as a
    // unit of its own, so that a frame still reads alone). frameSizes() records its output.
    using FrameHook =
        std::function<void(uint64_t frameIndex, std::span<const uint8_t> compressed, Buffer& out)>;

    // workers == 0: the calling thread compresses each frame when it is full. Otherwise that
    // many threads compress while the caller reads and checksums the next frames; at most
    // workers + 1 frames are held in memory at once (each frameBytes of input and its output).
    ZstdFramedCompressFilter(int level, size_t frameBytes, int workers, FrameHook hook = {});
    ~ZstdFramedCompressFilter() override;
    bool transforms() const override { return true; }
    void process(std::span<const uint8_t> in, Buffer& out) override;
    void finish(Buffer& out) override;
    // The rest of the frame being filled: a reader fills it directly (no copy into the frame).
    std::span<uint8_t> inputSpace() override;
    void commitInput(size_t n, Buffer& out) override;

    // Compressed size of each frame, in order; complete after finish().
    const std::vector<uint64_t>& frameSizes() const { return frameSizes_; }

  private:
    struct Frame {
        Buffer input, output;
        Buffer compressed;  // before the hook, when there is one
        uint64_t index = 0;
        bool done = false;
        std::exception_ptr error;
    };
    void submit();  // hands the frame being filled to a worker (or compresses it)
    void emitDone(Buffer& out, bool wait);  // appends finished frames, in order, to `out`
    void startFrame();                      // a frame to fill (a spare one when there is)
    void workerLoop();
    void compress(Frame& frame);
    void stop();  // ends and joins the workers

    int level_;
    size_t frameBytes_;
    FrameHook hook_;
    uint64_t submitted_ = 0;  // frames handed on so far: the next one's index
    std::unique_ptr<Frame> filling_;
    std::vector<std::unique_ptr<Frame>> spare_;  // emitted frames whose buffers are reused
    std::vector<uint64_t> frameSizes_;
    bool sawInput_ = false;

    std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<std::unique_ptr<Frame>> inFlight_;  // submitted, in file order
    std::deque<Frame*> queue_;                     // submitted, not yet taken by a worker
    bool stopping_ = false;
    size_t maxInFlight_;
    std::vector<std::thread> workers_;
};

}  // namespace backrest::io
