// One-shot compression of frames that decompress alone (the frames of a block-stored file and
// of a file stored as frames, io/zstd_frames.h),
// with each thread keeping its codec contexts: creating and sizing a zstd context costs more
// than compressing a 64 KiB frame, and a backup or restore handles tens of thousands of them.
#pragma once

#include <cstddef>
#include <span>
#include <string>

#include "io/buffer.h"
#include "io/compress.h"

namespace backrest::io {

// Appends `in`, compressed as one frame (zstd and lz4 frames carry a content checksum), to `out`.
void compressFrame(CompressType type, int level, std::span<const uint8_t> in, Buffer& out);

// Replaces the contents of `out` with the frame `in` decompressed. CompressError naming
// `context` when `in` is not exactly one frame, is damaged, or does not decompress to exactly
// `originalLength` bytes.
void decompressFrame(CompressType type, std::span<const uint8_t> in, size_t originalLength,
                     Buffer& out, const std::string& context);

}  // namespace backrest::io
