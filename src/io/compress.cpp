// Maps the compress-type option to names, file extensions and filter instances.
#include "io/compress.h"

#include "common/error.h"
#include "io/zstd.h"

namespace backrest::io {

CompressType parseCompressType(std::string_view name) {
    if (name == "zst") return CompressType::Zst;
    if (name == "none") return CompressType::None;
    raise(ErrorCode::Option, "invalid value '{}' for option 'compress-type' (expected none or zst)",
          name);
}

std::string_view compressTypeName(CompressType type) {
    switch (type) {
        case CompressType::None:
            return "none";
        case CompressType::Zst:
            return "zst";
    }
    raise(ErrorCode::Assert, "unknown compress type {}", static_cast<int>(type));
}

std::string_view compressExtension(CompressType type) {
    switch (type) {
        case CompressType::None:
            return "";
        case CompressType::Zst:
            return ".zst";
    }
    raise(ErrorCode::Assert, "unknown compress type {}", static_cast<int>(type));
}

std::unique_ptr<Filter> makeCompressFilter(CompressType type, int level, int workers,
                                           uint64_t sizeHint) {
    switch (type) {
        case CompressType::None:
            return nullptr;
        case CompressType::Zst:
            return std::make_unique<ZstdCompressFilter>(level, workers, sizeHint);
    }
    raise(ErrorCode::Assert, "unknown compress type {}", static_cast<int>(type));
}

std::unique_ptr<Filter> makeDecompressFilter(CompressType type, std::string context) {
    switch (type) {
        case CompressType::None:
            return nullptr;
        case CompressType::Zst:
            return std::make_unique<ZstdDecompressFilter>(std::move(context));
    }
    raise(ErrorCode::Assert, "unknown compress type {}", static_cast<int>(type));
}

}  // namespace backrest::io
