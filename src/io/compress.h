// Compression types known to the repository, their file extensions, and the filter factory.
// Adding a codec touches this file and the codec's own file only.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "io/filter.h"

namespace backrest::io {

enum class CompressType { None, Zst };

CompressType parseCompressType(std::string_view name);  // throws OptionError naming compress-type
std::string_view compressTypeName(CompressType type);   // "none", "zst"
std::string_view compressExtension(CompressType type);  // "", ".zst"

// nullptr for None. `workers` > 0: the codec compresses on that many threads of its own (zstd's
// multithreading; the output is the same format). `sizeHint` > 0: about how many bytes will be
// compressed (the codec sizes its tables for it; a wrong hint costs only ratio).
std::unique_ptr<Filter> makeCompressFilter(CompressType type, int level, int workers = 0,
                                           uint64_t sizeHint = 0);
// nullptr for None. `context` (the file or segment being read) goes into the error a damaged
// input raises, so the user learns which stored file is bad.
std::unique_ptr<Filter> makeDecompressFilter(CompressType type, std::string context);

}  // namespace backrest::io
