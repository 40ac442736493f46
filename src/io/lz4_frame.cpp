// lz4 frames one at a time, on per-thread contexts.
#include "io/lz4_frame.h"

#include <memory>

#include "common/error.h"

namespace backrest::io {

namespace {

struct Contexts {
    std::unique_ptr<LZ4F_cctx, decltype(&LZ4F_freeCompressionContext)> compress{
        nullptr, LZ4F_freeCompressionContext};
    std::unique_ptr<LZ4F_dctx, decltype(&LZ4F_freeDecompressionContext)> decompress{
        nullptr, LZ4F_freeDecompressionContext};
};

Contexts& threadContexts() {
    thread_local Contexts contexts;
    return contexts;
}

LZ4F_cctx& compressContext() {
    auto& ctx = threadContexts().compress;
    if (!ctx) {
        LZ4F_cctx* raw = nullptr;
        if (LZ4F_isError(LZ4F_createCompressionContext(&raw, LZ4F_VERSION)))
            raise(ErrorCode::Compress, "unable to create lz4 compression context");
        ctx.reset(raw);
    }
    return *ctx;
}

LZ4F_dctx& decompressContext(const std::string& context) {
    auto& ctx = threadContexts().decompress;
    if (!ctx) {
        LZ4F_dctx* raw = nullptr;
        if (LZ4F_isError(LZ4F_createDecompressionContext(&raw, LZ4F_VERSION)))
            raise(ErrorCode::Compress, "unable to create lz4 decompression context for '{}'",
                  context);
        ctx.reset(raw);
    }
    // A frame that failed half way leaves the context inside it.
    LZ4F_resetDecompressionContext(ctx.get());
    return *ctx;
}

size_t checkCompress(size_t result, const char* what) {
    if (LZ4F_isError(result))
        raise(ErrorCode::Compress, "lz4 {} failed: {}", what, LZ4F_getErrorName(result));
    return result;
}

[[noreturn]] void raiseDamaged(const std::string& context, const std::string& what) {
    raise(ErrorCode::Compress, "lz4 frame of '{}' is damaged: {}", context, what);
}

}  // namespace

LZ4F_preferences_t lz4FramePreferences(int level, uint64_t contentSize) {
    LZ4F_preferences_t prefs{};
    prefs.compressionLevel = level;
    prefs.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
    prefs.frameInfo.contentSize = contentSize;
    return prefs;
}

void lz4CompressFrame(int level, std::span<const uint8_t> in, Buffer& out) {
    LZ4F_cctx& ctx = compressContext();
    LZ4F_preferences_t prefs = lz4FramePreferences(level, in.size());
    // Header, the blocks (with what the context may buffer) and the end mark with the checksum.
    size_t bound = LZ4F_HEADER_SIZE_MAX + LZ4F_compressBound(in.size(), &prefs) +
                   LZ4F_compressBound(0, &prefs);
    uint8_t* dst = out.ensureFree(bound);
    size_t at = checkCompress(LZ4F_compressBegin(&ctx, dst, bound, &prefs), "compression start");
    at += checkCompress(
        LZ4F_compressUpdate(&ctx, dst + at, bound - at, in.data(), in.size(), nullptr),
        "compression");
    at += checkCompress(LZ4F_compressEnd(&ctx, dst + at, bound - at, nullptr), "compression end");
    out.commit(at);
}

void lz4DecompressFrame(std::span<const uint8_t> in, size_t originalLength, Buffer& out,
                        const std::string& context) {
    out.clear();
    LZ4F_dctx& ctx = decompressContext(context);
    // The header states the content size (every frame written here has it): a frame claiming
    // another length is damaged, whatever it decodes to.
    LZ4F_frameInfo_t info{};
    size_t headerBytes = in.size();
    size_t hint = LZ4F_getFrameInfo(&ctx, &info, in.data(), &headerBytes);
    if (LZ4F_isError(hint)) raiseDamaged(context, LZ4F_getErrorName(hint));
    if (info.contentSize != 0 && info.contentSize != originalLength)
        raise(ErrorCode::Compress, "lz4 frame of '{}' holds {} bytes, not {}", context,
              static_cast<uint64_t>(info.contentSize), originalLength);
    // One byte of room beyond the expected length tells "more than expected" from "exactly".
    const size_t room = originalLength + 1;
    uint8_t* dst = out.ensureFree(room);
    size_t produced = 0, at = headerBytes;
    while (hint != 0) {
        size_t wrote = room - produced;
        size_t taken = in.size() - at;
        hint = LZ4F_decompress(&ctx, dst + produced, &wrote, in.data() + at, &taken, nullptr);
        if (LZ4F_isError(hint)) raiseDamaged(context, LZ4F_getErrorName(hint));
        produced += wrote;
        at += taken;
        if (produced > originalLength)
            raise(ErrorCode::Compress, "lz4 frame of '{}' decompresses to more than {} bytes",
                  context, originalLength);
        // Nothing moved and the frame is not complete: its recorded length cuts it short.
        if (hint != 0 && taken == 0 && wrote == 0)
            raiseDamaged(
                context,
                fmt::format("its recorded length ({} bytes) ends inside the frame", in.size()));
    }
    if (at != in.size())
        raiseDamaged(context, fmt::format("its recorded length ({} bytes) is not where the "
                                          "frame ends ({} bytes)",
                                          in.size(), at));
    if (produced != originalLength)
        raise(ErrorCode::Compress, "lz4 frame of '{}' decompresses to {} bytes, not {}", context,
              produced, originalLength);
    out.commit(produced);
}

}  // namespace backrest::io
