// One lz4 frame that decodes alone: the unit of a file stored as frames (io/zstd_frames.h) and of
// a block-stored file (repo/block_transfer.h), as io/frame_codec.h does for zstd. Each thread
// keeps its lz4 contexts: a backup or restore handles tens of thousands of frames.
#pragma once

#include <lz4frame.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "io/buffer.h"

namespace backrest::io {

// The frame settings every lz4 writer here uses: `level`, the content checksum on (restore and
// verify detect damaged bytes that still decode), and `contentSize` in the header when known
// (> 0), so a frame that decodes to another length is refused before it is decoded.
LZ4F_preferences_t lz4FramePreferences(int level, uint64_t contentSize);

// Appends `in`, compressed as one lz4 frame, to `out`.
void lz4CompressFrame(int level, std::span<const uint8_t> in, Buffer& out);

// Replaces the contents of `out` with the frame `in` decompressed. CompressError naming `context`
// when `in` is not exactly one frame, is damaged, or does not hold exactly `originalLength` bytes.
void lz4DecompressFrame(std::span<const uint8_t> in, size_t originalLength, Buffer& out,
                        const std::string& context);

}  // namespace backrest::io
