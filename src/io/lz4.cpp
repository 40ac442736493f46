// lz4 streaming filters on the LZ4F frame API (one frame per stream; a reader takes several
// frames one after another, as a file stored as frames or a streamed WAL segment holds).
#include "io/lz4.h"

#include <lz4frame.h>

#include <algorithm>
#include <limits>

#include "common/error.h"
#include "io/lz4_frame.h"

namespace backrest::io {

namespace {

// Input handed to one LZ4F_compressUpdate call: its output room is sized for it, so a 64 MiB
// buffer does not ask for 64 MiB more at once.
constexpr size_t kUpdateBytes = size_t{1} << 20;
// Output produced per LZ4F_decompress call (and the bound of what one call adds to `out`).
constexpr size_t kDecompressRoom = size_t{256} << 10;

size_t checkCompress(size_t result, const char* what) {
    if (LZ4F_isError(result))
        raise(ErrorCode::Compress, "lz4 {} failed: {}", what, LZ4F_getErrorName(result));
    return result;
}

}  // namespace

Lz4CompressFilter::Lz4CompressFilter(int level) : level_(level) {
    checkCompress(LZ4F_createCompressionContext(&ctx_, LZ4F_VERSION), "compression context");
}

Lz4CompressFilter::~Lz4CompressFilter() {
    LZ4F_freeCompressionContext(ctx_);
}

void Lz4CompressFilter::begin(Buffer& out) {
    if (begun_) return;
    LZ4F_preferences_t prefs = lz4FramePreferences(level_, 0);
    size_t n = checkCompress(LZ4F_compressBegin(ctx_, out.ensureFree(LZ4F_HEADER_SIZE_MAX),
                                                LZ4F_HEADER_SIZE_MAX, &prefs),
                             "compression start");
    out.commit(n);
    begun_ = true;
}

void Lz4CompressFilter::process(std::span<const uint8_t> in, Buffer& out) {
    begin(out);
    LZ4F_preferences_t prefs = lz4FramePreferences(level_, 0);
    while (!in.empty()) {
        auto chunk = in.first(std::min(in.size(), kUpdateBytes));
        // The bound counts the bytes the context still buffers from earlier calls.
        size_t room = LZ4F_compressBound(chunk.size(), &prefs);
        size_t n = checkCompress(LZ4F_compressUpdate(ctx_, out.ensureFree(room), room, chunk.data(),
                                                     chunk.size(), nullptr),
                                 "compression");
        out.commit(n);
        in = in.subspan(chunk.size());
    }
}

void Lz4CompressFilter::finish(Buffer& out) {
    // An empty file is still a frame (header, end mark, checksum), so that zero stored bytes
    // always mean a truncated repository file.
    begin(out);
    LZ4F_preferences_t prefs = lz4FramePreferences(level_, 0);
    size_t room = LZ4F_compressBound(0, &prefs);
    size_t n = checkCompress(LZ4F_compressEnd(ctx_, out.ensureFree(room), room, nullptr),
                             "compression end");
    out.commit(n);
}

Lz4DecompressFilter::Lz4DecompressFilter(std::string context) : context_(std::move(context)) {
    if (LZ4F_isError(LZ4F_createDecompressionContext(&ctx_, LZ4F_VERSION)))
        raise(ErrorCode::Compress, "unable to create lz4 decompression context for '{}'", context_);
}

Lz4DecompressFilter::~Lz4DecompressFilter() {
    LZ4F_freeDecompressionContext(ctx_);
}

void Lz4DecompressFilter::process(std::span<const uint8_t> in, Buffer& out) {
    processSome(in, out, std::numeric_limits<size_t>::max());
}

size_t Lz4DecompressFilter::processSome(std::span<const uint8_t> in, Buffer& out, size_t limit) {
    if (!in.empty()) sawInput_ = true;
    size_t consumed = 0;
    while (out.size() < limit) {
        size_t room = std::min(limit - out.size(), kDecompressRoom);
        size_t produced = room;
        size_t taken = in.size() - consumed;
        size_t hint = LZ4F_decompress(ctx_, out.ensureFree(room), &produced, in.data() + consumed,
                                      &taken, nullptr);
        if (LZ4F_isError(hint))
            raise(ErrorCode::Compress, "lz4 decompression of '{}' failed: {}", context_,
                  LZ4F_getErrorName(hint));
        out.commit(produced);
        consumed += taken;
        // A call that moved nothing reports what it wants next, not where the frame stands.
        if (taken != 0 || produced != 0) lastHint_ = hint;
        // Room left over means lz4 has given all it could from the input given.
        if (consumed == in.size() && produced < room) break;
    }
    return consumed;
}

void Lz4DecompressFilter::finish(Buffer&) {
    if (!sawInput_)
        raise(ErrorCode::Compress, "compressed stream '{}' is empty or truncated: no lz4 frame",
              context_);
    if (lastHint_ != 0)
        raise(ErrorCode::Compress,
              "compressed stream '{}' is truncated: input ended inside an lz4 frame", context_);
}

}  // namespace backrest::io
