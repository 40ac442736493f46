// Frame codec: zstd's one-shot API on per-thread contexts (lz4's: io/lz4_frame.h).
#include "io/frame_codec.h"

#include <zstd.h>

#include <cstring>
#include <memory>

#include "common/error.h"
#include "io/lz4_frame.h"

namespace backrest::io {

namespace {

struct Contexts {
    std::unique_ptr<ZSTD_CCtx, decltype(&ZSTD_freeCCtx)> compress{nullptr, ZSTD_freeCCtx};
    std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> decompress{nullptr, ZSTD_freeDCtx};
};

Contexts& threadContexts() {
    thread_local Contexts contexts;
    return contexts;
}

}  // namespace

void compressFrame(CompressType type, int level, std::span<const uint8_t> in, Buffer& out) {
    if (type == CompressType::None) {
        out.append(in);
        return;
    }
    if (type == CompressType::Lz4) return lz4CompressFrame(level, in, out);
    auto& ctx = threadContexts().compress;
    if (!ctx) {
        ctx.reset(ZSTD_createCCtx());
        if (!ctx) raise(ErrorCode::Compress, "unable to create zstd compression context");
    }
    // Set on every call: a context is reused by any caller on this thread, at any level.
    ZSTD_CCtx_setParameter(ctx.get(), ZSTD_c_compressionLevel, level);
    ZSTD_CCtx_setParameter(ctx.get(), ZSTD_c_checksumFlag, 1);
    size_t bound = ZSTD_compressBound(in.size());
    size_t n = ZSTD_compress2(ctx.get(), out.ensureFree(bound), bound, in.data(), in.size());
    if (ZSTD_isError(n))
        raise(ErrorCode::Compress, "zstd compression failed: {}", ZSTD_getErrorName(n));
    out.commit(n);
}

void decompressFrame(CompressType type, std::span<const uint8_t> in, size_t originalLength,
                     Buffer& out, const std::string& context) {
    out.clear();
    if (type == CompressType::None) {
        if (in.size() != originalLength)
            raise(ErrorCode::Compress, "frame of '{}' has {} bytes, not {}", context, in.size(),
                  originalLength);
        out.append(in);
        return;
    }
    if (type == CompressType::Lz4) return lz4DecompressFrame(in, originalLength, out, context);
    // Exactly one frame: a recorded length that cuts a frame short or runs into the next one
    // is a damaged index, even if the bytes happen to decode.
    size_t frameSize = ZSTD_findFrameCompressedSize(in.data(), in.size());
    if (ZSTD_isError(frameSize))
        raise(ErrorCode::Compress, "zstd frame of '{}' is damaged: {}", context,
              ZSTD_getErrorName(frameSize));
    if (frameSize != in.size())
        raise(ErrorCode::Compress,
              "zstd frame of '{}' is damaged: its recorded length ({} bytes) is not where the "
              "frame ends ({} bytes)",
              context, in.size(), frameSize);
    // The frame header states its content size; a frame claiming another is damaged.
    unsigned long long claimed = ZSTD_getFrameContentSize(in.data(), in.size());
    if (claimed == ZSTD_CONTENTSIZE_ERROR)
        raise(ErrorCode::Compress, "zstd decompression of '{}' failed: not a zstd frame", context);
    if (claimed != ZSTD_CONTENTSIZE_UNKNOWN && claimed != originalLength)
        raise(ErrorCode::Compress, "zstd frame of '{}' holds {} bytes, not {}", context, claimed,
              originalLength);
    auto& ctx = threadContexts().decompress;
    if (!ctx) {
        ctx.reset(ZSTD_createDCtx());
        if (!ctx)
            raise(ErrorCode::Compress, "unable to create zstd decompression context for '{}'",
                  context);
    }
    // One byte of room beyond the expected length tells "more than expected" from "exactly".
    size_t n = ZSTD_decompressDCtx(ctx.get(), out.ensureFree(originalLength + 1),
                                   originalLength + 1, in.data(), in.size());
    if (ZSTD_isError(n))
        raise(ErrorCode::Compress, "zstd decompression of '{}' failed: {}", context,
              ZSTD_getErrorName(n));
    if (n != originalLength)
        raise(ErrorCode::Compress, "zstd frame of '{}' decompresses to {} bytes, not {}", context,
              n, originalLength);
    out.commit(n);
}

}  // namespace backrest::io
