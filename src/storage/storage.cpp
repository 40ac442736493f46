// Whole-file helpers shared by every storage driver: built only on openRead/openWrite so that
// each driver gets them (with its own durability rules) for free.
#include "storage/storage.h"

#include <algorithm>
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

// A window on another reader: seek() and the end (when the range has a length) are relative to
// the range.
class RangeRead : public StorageRead {
  public:
    RangeRead(std::unique_ptr<StorageRead> inner, ReadRange range)
        : inner_(std::move(inner)), range_(range) {
        seek(0);
    }
    size_t read(std::span<uint8_t> buf) override {
        if (!range_.length) return inner_->read(buf);
        if (remaining_ == 0) return 0;
        size_t n = inner_->read(
            buf.first(static_cast<size_t>(std::min<uint64_t>(buf.size(), remaining_))));
        remaining_ -= n;
        return n;
    }
    void seek(uint64_t offset) override {
        inner_->seek(range_.offset + offset);
        if (range_.length) remaining_ = offset >= *range_.length ? 0 : *range_.length - offset;
    }
    const std::string& path() const override { return inner_->path(); }

  private:
    std::unique_ptr<StorageRead> inner_;
    ReadRange range_;
    uint64_t remaining_ = 0;
};

}  // namespace

std::unique_ptr<StorageRead> limitToRange(std::unique_ptr<StorageRead> reader,
                                          const ReadRange& range) {
    if (!reader || (range.offset == 0 && !range.length)) return reader;
    return std::make_unique<RangeRead>(std::move(reader), range);
}

std::unique_ptr<StorageRead> openReadRange(Storage& storage, const std::string& path,
                                           const ReadRange& range, bool ignoreMissing) {
    return storage.openRead(path, ignoreMissing, range);
}

void syncPaths(Storage& storage, const std::vector<std::string>& paths) {
    if (!storage.features().path) return;
    for (const auto& p : paths) storage.pathSync(p);
}

void Storage::pathCreate(const std::string& path, mode_t) {
    raise(ErrorCode::Assert, "'{}': this storage has no directories to create", fullPath(path));
}

void Storage::pathSync(const std::string& path) {
    raise(ErrorCode::Assert, "'{}': this storage has no directories to sync", fullPath(path));
}

void Storage::move(const std::string& from, const std::string&) {
    raise(ErrorCode::Assert, "'{}': this storage cannot rename", fullPath(from));
}

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
    writer->write(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(content.data()), content.size()));
    // Without close() the destructor discards the file: the content only counts once durable.
    writer->close();
}

std::vector<FileInfo> Storage::listPrefix(const std::string& path, const std::string& namePrefix) {
    std::vector<FileInfo> entries = list(path, true);
    std::erase_if(entries, [&](const FileInfo& e) { return !e.name.starts_with(namePrefix); });
    return entries;
}

void StorageWrite::writeAt(uint64_t, std::span<const uint8_t>) {
    raise(ErrorCode::Assert, "file '{}': this storage cannot write at an offset", path());
}

}  // namespace backrest::storage
