// Whole-file helpers shared by every storage driver: built only on openRead/openWrite so that
// each driver gets them (with its own durability rules) for free.
#include "storage/storage.h"

#include <cstdint>
#include <span>

#include "common/error.h"

namespace backrest::storage {

namespace {

// Info files and manifests are small; 64 KiB keeps the number of read calls low without
// holding a large buffer.
constexpr size_t kReadChunk = 64 * 1024;

std::string readRest(StorageRead& reader) {
    std::string content;
    std::vector<uint8_t> buf(kReadChunk);
    for (;;) {
        size_t n = reader.read(buf);
        if (n == 0) break;
        content.append(reinterpret_cast<const char*>(buf.data()), n);
    }
    return content;
}

}  // namespace

std::string readAll(Storage& storage, const std::string& path) {
    // ignoreMissing=false: the driver raises FileMissingError naming the full path.
    auto reader = storage.openRead(path, false);
    return readRest(*reader);
}

std::optional<std::string> readAllIfExists(Storage& storage, const std::string& path) {
    auto reader = storage.openRead(path, true);
    if (!reader) return std::nullopt;
    return readRest(*reader);
}

void writeAll(Storage& storage, const std::string& path, std::string_view content,
              const WriteOptions& options) {
    auto writer = storage.openWrite(path, options);
    writer->write(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(content.data()),
                                           content.size()));
    // Without close() the destructor discards the file: the content only counts once durable.
    writer->close();
}

void StorageWrite::writeAt(uint64_t, std::span<const uint8_t>) {
    raise(ErrorCode::Assert, "file '{}': this storage cannot write at an offset", path());
}

}  // namespace backrest::storage
