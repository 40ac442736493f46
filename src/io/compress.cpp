// Maps the compress-type option to names, file extensions, levels and filter instances.
#include "io/compress.h"

#include "common/error.h"
#include "io/lz4.h"
#include "io/zstd.h"

namespace backrest::io {

namespace {

constexpr CompressType kCompressed[] = {CompressType::Zst, CompressType::Lz4};

struct LevelRange {
    int min, max, fallback;
};

// zstd's negative levels trade ratio for speed down to -7 (this option's floor since 0.1.0);
// lz4's are acceleration (-5..-1), 1..2 its fast mode, 3..12 its HC modes (pgBackRest's range).
LevelRange levelRange(CompressType type) {
    switch (type) {
        case CompressType::None:
            return {0, 0, 0};
        case CompressType::Zst:
            return {-7, 22, 3};
        case CompressType::Lz4:
            return {-5, 12, 1};
    }
    raise(ErrorCode::Assert, "unknown compress type {}", static_cast<int>(type));
}

}  // namespace

CompressType parseCompressType(std::string_view name) {
    if (name == "zst") return CompressType::Zst;
    if (name == "lz4") return CompressType::Lz4;
    if (name == "none") return CompressType::None;
    raise(ErrorCode::Option,
          "invalid value '{}' for option 'compress-type' (expected none, zst or lz4)", name);
}

std::string_view compressTypeName(CompressType type) {
    switch (type) {
        case CompressType::None:
            return "none";
        case CompressType::Zst:
            return "zst";
        case CompressType::Lz4:
            return "lz4";
    }
    raise(ErrorCode::Assert, "unknown compress type {}", static_cast<int>(type));
}

std::string_view compressExtension(CompressType type) {
    switch (type) {
        case CompressType::None:
            return "";
        case CompressType::Zst:
            return ".zst";
        case CompressType::Lz4:
            return ".lz4";
    }
    raise(ErrorCode::Assert, "unknown compress type {}", static_cast<int>(type));
}

CompressType compressTypeOfStoredName(std::string_view fileName) {
    for (CompressType type : kCompressed)
        if (fileName.ends_with(compressExtension(type))) return type;
    return CompressType::None;
}

std::string_view withoutCompressExtension(std::string_view fileName) {
    fileName.remove_suffix(compressExtension(compressTypeOfStoredName(fileName)).size());
    return fileName;
}

int defaultCompressLevel(CompressType type) {
    return levelRange(type).fallback;
}

void checkCompressLevel(CompressType type, int level) {
    LevelRange range = levelRange(type);
    if (type != CompressType::None && (level < range.min || level > range.max))
        raise(ErrorCode::Option,
              "invalid value '{}' for option 'compress-level': compress-type={} takes a level "
              "from {} to {}",
              level, compressTypeName(type), range.min, range.max);
}

std::unique_ptr<Filter> makeCompressFilter(CompressType type, int level, int workers,
                                           uint64_t sizeHint) {
    switch (type) {
        case CompressType::None:
            return nullptr;
        case CompressType::Zst:
            return std::make_unique<ZstdCompressFilter>(level, workers, sizeHint);
        case CompressType::Lz4:
            return std::make_unique<Lz4CompressFilter>(level);
    }
    raise(ErrorCode::Assert, "unknown compress type {}", static_cast<int>(type));
}

std::unique_ptr<Filter> makeDecompressFilter(CompressType type, std::string context) {
    switch (type) {
        case CompressType::None:
            return nullptr;
        case CompressType::Zst:
            return std::make_unique<ZstdDecompressFilter>(std::move(context));
        case CompressType::Lz4:
            return std::make_unique<Lz4DecompressFilter>(std::move(context));
    }
    raise(ErrorCode::Assert, "unknown compress type {}", static_cast<int>(type));
}

}  // namespace backrest::io
