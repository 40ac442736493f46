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

// A large frame whose samples compress no better (within 1 %) at level 2 or 3 than at level 1
// is compressed at level 1: on such data level 3 costs about twice the CPU for the same bytes
// (605 MB of md5-derived rows: 1.47 s against 0.69 s of one core, 499.2 MB against 500.5 MB;
// 200 MB of pgbench_accounts: level 1 gives 4.7 MB, level 3 5.5 MB). The result is an ordinary
// zstd frame either way (the repository format and what restore checks are unchanged). Three
// samples of kSampleBytes (start, middle, end), each compressed at both levels: about 1 % of
// the frame's work at level 3. Scale-200 full backup, paired: CPU x0.72, repository 613.1 ->
// 606.6 MiB.
constexpr size_t kSampleBytes = 32u << 10;
constexpr size_t kSampledFrameMin = 1u << 20;

int levelForFrame(ZSTD_CCtx* ctx, int level, std::span<const uint8_t> in) {
    // Only the fast levels (2 and 3, zstd's "fast" and "double fast" matchers, which find
    // the same short-range matches): a higher level is asked for its ratio, honoured whatever
    // a sample says.
    if (level <= 1 || level > 3 || in.size() < kSampledFrameMin) return level;
    thread_local std::unique_ptr<uint8_t[]> scratch;
    const size_t bound = ZSTD_compressBound(kSampleBytes);
    if (!scratch) scratch = std::make_unique<uint8_t[]>(bound);
    size_t atLevel = 0, atOne = 0;
    for (size_t offset : {size_t{0}, (in.size() - kSampleBytes) / 2, in.size() - kSampleBytes}) {
        const uint8_t* sample = in.data() + offset;
        size_t a = ZSTD_compressCCtx(ctx, scratch.get(), bound, sample, kSampleBytes, level);
        size_t b = ZSTD_compressCCtx(ctx, scratch.get(), bound, sample, kSampleBytes, 1);
        if (ZSTD_isError(a) || ZSTD_isError(b)) return level;
        atLevel += a;
        atOne += b;
    }
    return atLevel * 100 >= atOne * 99 ? 1 : level;
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
    level = levelForFrame(ctx.get(), level, in);
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
