// zstd (or lz4: the same framing, io/lz4_frame.h) compression of a large file as a sequence of
// independent frames, each of a fixed number of original bytes (the last one shorter), compressed
// in parallel on the shared executor (common/executor.h) and written in order. The output is an
// ordinary zstd (lz4) stream (concatenated frames: any zstd (lz4) reader decompresses it whole;
// io::decompressFrame decodes one frame alone). The
// recorded compressed size of each frame lets a restore decompress the frames in parallel and write
// each at its own offset (frame k holds original bytes [k × frameBytes, (k + 1) × frameBytes)).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/executor.h"
#include "io/compress.h"
#include "io/filter.h"

namespace backrest::io {

class ZstdFramedCompressFilter : public Filter {
  public:
    // Applied to each frame once compressed, on the thread that compressed it: appends frame
    // `frameIndex`'s final stored bytes to `out` (repository encryption seals each frame as a
    // unit of its own, so that a frame still reads alone). frameSizes() records its output.
    using FrameHook =
        std::function<void(uint64_t frameIndex, std::span<const uint8_t> compressed, Buffer& out)>;

    // workers == 0: the calling thread compresses each frame when it is full. Otherwise up to
    // that many frames are compressed at once by the executor's idle workers while the caller
    // reads and checksums the next frames; a frame no worker took by the time the caller needs
    // its slot the caller compresses itself, so the thread budget holds. At most workers + 1
    // frames are held in memory at once (each frameBytes of input and its output).
    ZstdFramedCompressFilter(int level, size_t frameBytes, int workers, FrameHook hook = {},
                             CompressType type = CompressType::Zst);
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
        Executor::Handle task;  // its compression, when on the executor
    };
    void submit();  // hands the frame being filled to the executor (or compresses it)
    void emitDone(Buffer& out, bool wait);  // appends finished frames, in order, to `out`
    void startFrame();                      // a frame to fill (a spare one when there is)
    bool helpWithQueuedFrame();             // compresses a frame no worker took, if there is one
    void compress(Frame& frame);

    CompressType type_;
    int level_;
    bool onExecutor_;
    size_t frameBytes_;
    FrameHook hook_;
    uint64_t submitted_ = 0;  // frames handed on so far: the next one's index
    std::unique_ptr<Frame> filling_;
    std::vector<std::unique_ptr<Frame>> spare_;  // emitted frames whose buffers are reused
    std::vector<uint64_t> frameSizes_;
    bool sawInput_ = false;
    std::deque<std::unique_ptr<Frame>> inFlight_;  // submitted, in file order
    size_t maxInFlight_;
};

}  // namespace backrest::io
