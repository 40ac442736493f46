// Compression types known to the repository, their file extensions, levels, and the filter
// factory. Adding a codec touches this file and the codec's own files only.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "io/filter.h"

namespace backrest::io {

enum class CompressType { None, Zst, Lz4 };

CompressType parseCompressType(std::string_view name);  // throws OptionError naming compress-type
std::string_view compressTypeName(CompressType type);   // "none", "zst", "lz4"
std::string_view compressExtension(CompressType type);  // "", ".zst", ".lz4"
// The compression a stored file's name says ("…-<sha256>.lz4"): None without a known extension.
CompressType compressTypeOfStoredName(std::string_view fileName);
// The stored name without its compression extension (the piece it is sealed as, repo/piece.h).
std::string_view withoutCompressExtension(std::string_view fileName);

// pgBackRest's default level of each type when compress-level is not set: zst 3, lz4 1.
int defaultCompressLevel(CompressType type);
// OptionError naming compress-level, the type and its range (pgBackRest's: zst -7..22,
// lz4 -5..12) when `level` is outside it.
void checkCompressLevel(CompressType type, int level);

// nullptr for None. `workers` > 0: the codec compresses on that many threads of its own (zstd's
// multithreading; the output is the same format; lz4 has none and ignores it). `sizeHint` > 0:
// about how many bytes will be compressed (the codec sizes its tables for it; a wrong hint costs
// only ratio).
std::unique_ptr<Filter> makeCompressFilter(CompressType type, int level, int workers = 0,
                                           uint64_t sizeHint = 0);
// nullptr for None. `context` (the file or segment being read) goes into the error a damaged
// input raises, so the user learns which stored file is bad.
std::unique_ptr<Filter> makeDecompressFilter(CompressType type, std::string context);

}  // namespace backrest::io
