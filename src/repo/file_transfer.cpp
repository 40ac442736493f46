// One-pass store and fetch of a file through the filter chain.
#include "repo/file_transfer.h"

#include "common/error.h"
#include "io/buffer.h"
#include "io/file_checksum.h"
#include "io/filter_chain.h"
#include "io/size.h"
#include "repo/stored_file_reader.h"

namespace backrest::repo {

namespace {

// From this size, a restored file checksummed with SHA-256 is hashed beside its decompression
// (Sha256Filter::Thread::Own): a thread per file is cheap next to the 20 ms and more it takes.
constexpr uint64_t kHashBesideMinSize = 32ull << 20;

// A direct read into the frame compressor's buffer is at most this long, so a cancelled backup
// stops within one such read.
constexpr size_t kDirectReadMax = 2 << 20;

// Lets the caller keep a filter it passes into a chain (which owns its filters).
class BorrowedObserver : public io::Filter {
  public:
    explicit BorrowedObserver(io::Filter& inner) : inner_(inner) {}
    bool transforms() const override { return false; }
    void process(std::span<const uint8_t> in, io::Buffer& out) override { inner_.process(in, out); }
    void finish(io::Buffer& out) override { inner_.finish(out); }

  private:
    io::Filter& inner_;
};

// Streams a source into `out` through checksum -> size -> compress -> size.
template <typename Feed>
StoredFile storeInto(Feed feed, storage::StorageWrite& out, const std::string& piece,
                     const TransferOptions& options, io::Filter* observer = nullptr) {
    io::FilterChain chain([&](std::span<const uint8_t> bytes) { out.write(bytes); });
    // A file compressed on zstd's threads is a large one: a SHA-256 runs beside the reading too.
    auto& sum = chain.add<io::ChecksumFilter>(
        options.checksumType, options.compressWorkers > 0 ? io::Sha256Filter::Thread::Own
                                                          : io::Sha256Filter::Thread::Caller);
    auto& size = chain.add<io::SizeFilter>();
    if (observer) chain.add<BorrowedObserver>(*observer);
    const FrameIndex* framed = options.codec.pushEncode(chain, piece,
                                                        {.workers = options.compressWorkers,
                                                         .sizeHint = options.sizeHint,
                                                         .frameBytes = options.frameBytes});
    auto& repoSize = chain.add<io::SizeFilter>();
    feed(chain);
    chain.finish();
    StoredFile stored;
    stored.size = size.bytes();
    stored.repoSize = repoSize.bytes();
    stored.checksum = sum.hex();
    // One frame is an ordinary zstd file: no index needed.
    if (framed && framed->frameSizes().size() > 1) {
        stored.frameBytes = options.frameBytes;
        stored.frames = framed->frameSizes();
    }
    return stored;
}

// The same into a repository file of its own, made durable (now or by options.closer).
template <typename Feed>
StoredFile store(Feed feed, storage::Storage& destination, const std::string& destinationPath,
                 const std::string& piece, const TransferOptions& options,
                 io::Filter* observer = nullptr) {
    storage::WriteOptions write;
    write.syncPath = false;
    write.directAppend = options.directAppend;
    auto out = destination.openWrite(destinationPath, write);
    StoredFile stored = storeInto(feed, *out, piece, options, observer);
    std::function<void()> durable;
    if (options.durable) durable = [durable = options.durable, stored] { durable(stored); };
    if (options.closer) {
        options.closer->close(std::move(out), std::move(durable));
    } else {
        out->close();
        if (durable) durable();
    }
    return stored;
}

// Reads a source file into the chain.
auto feedFrom(storage::Storage& source, const std::string& sourcePath, storage::StorageRead& in,
              const TransferOptions& options) {
    return [&source, &sourcePath, &in, &options](io::FilterChain& chain) {
        io::Buffer buffer(options.bufferSize);
        for (;;) {
            if (options.cancel && *options.cancel)
                raise(ErrorCode::Cancelled, "cancelled while copying '{}'",
                      source.fullPath(sourcePath));
            // Straight into the frame compressor's buffer when it has one (saves a copy of
            // every byte of a large file), else through our own.
            if (auto space = chain.inputSpace(); !space.empty()) {
                size_t n = in.read(space.first(std::min(space.size(), kDirectReadMax)));
                if (n == 0) break;
                chain.commitInput(n);
                continue;
            }
            size_t n = in.read({buffer.data(), buffer.capacity()});
            if (n == 0) break;
            chain.write({buffer.data(), n});
        }
    };
}

}  // namespace

void raiseUnopened(const ExpectedFile& expected, const Error& cause) {
    raise(ErrorCode::Crypto,
          "file '{}' of backup {} does not open with the repository key: it is damaged, truncated "
          "or not "
          "the file it should be (swapped or moved in the repository): {}",
          expected.name, expected.label, cause.what());
}

std::string StoredLocation::describe(storage::Storage& repo) const {
    if (!range.length) return repo.fullPath(path);
    return fmt::format("{}, bytes {}-{}", repo.fullPath(path), range.offset,
                       range.offset + *range.length);
}

std::optional<StoredFile> storeFile(storage::Storage& source, const std::string& sourcePath,
                                    storage::Storage& destination,
                                    const std::string& destinationPath, const std::string& piece,
                                    const TransferOptions& options, io::Filter* observer) {
    auto in = source.openRead(sourcePath, /*ignoreMissing=*/true);
    if (!in) return std::nullopt;
    return store(feedFrom(source, sourcePath, *in, options), destination, destinationPath, piece,
                 options, observer);
}

std::optional<StoredFile> appendFile(storage::Storage& source, const std::string& sourcePath,
                                     storage::StorageWrite& bundle, const std::string& piece,
                                     const TransferOptions& options, io::Filter* observer) {
    auto in = source.openRead(sourcePath, /*ignoreMissing=*/true);
    if (!in) return std::nullopt;
    TransferOptions one = options;
    one.compressWorkers = 0;
    one.frameBytes = 0;
    return storeInto(feedFrom(source, sourcePath, *in, one), bundle, piece, one, observer);
}

StoredFile storeBytes(std::string_view content, storage::Storage& destination,
                      const std::string& destinationPath, const std::string& piece,
                      const TransferOptions& options) {
    TransferOptions sized = options;
    sized.sizeHint = content.size();
    return store(
        [&](io::FilterChain& chain) {
            chain.write({reinterpret_cast<const uint8_t*>(content.data()), content.size()});
        },
        destination, destinationPath, piece, sized);
}

void raiseMissing(const ExpectedFile& expected, const std::string& where) {
    raise(ErrorCode::FileMissing,
          "file '{}' of backup {} is missing from the repository (expected '{}')", expected.name,
          expected.label, where);
}

void raiseUnlessRestored(const ExpectedFile& expected, const std::string& where,
                         io::ChecksumType type, const StoredRead& read, std::string_view verb) {
    switch (read.fault) {
        case StoredFault::None:
            return;
        case StoredFault::Missing:
            raiseMissing(expected, where);
        case StoredFault::Unopened:
            raiseUnopened(expected, *read.error);
        case StoredFault::Undecodable:
            raise(ErrorCode::Checksum, "file '{}' of backup {} is damaged in the repository: {}",
                  expected.name, expected.label, read.error->what());
        case StoredFault::Unreadable:
            throw *read.error;  // not damage: passed on as the storage raised it
        case StoredFault::Mismatch:
            raise(ErrorCode::Checksum,
                  "file '{}' of backup {} is damaged in the repository ('{}'): recorded {} bytes "
                  "with {} {}, {} {} bytes with {}",
                  expected.name, expected.label, where, expected.size, io::checksumAlgorithm(type),
                  expected.checksum, verb, read.size, read.checksum);
    }
    raise(ErrorCode::Assert, "unknown fault reading '{}'", where);
}

void fetchFile(storage::Storage& source, const StoredLocation& from, const RepoCodec& codec,
               storage::Storage& destination, const std::string& destinationPath,
               const ExpectedFile& expected, size_t bufferSize, storage::AsyncCloser* closer) {
    StoredFileReader reader(source, from, codec, expected.piece);
    if (!reader.open()) raiseMissing(expected, reader.where());
    auto type = io::checksumTypeOf(
        expected.checksum, fmt::format("file '{}' of backup {}", expected.name, expected.label));
    auto out = destination.openWrite(destinationPath, expected.write);
    StoredRead read = reader.read(
        type, {expected.checksum, expected.size},
        {.original = [&](std::span<const uint8_t> bytes) { out->write(bytes); }}, bufferSize,
        expected.size >= kHashBesideMinSize ? io::Sha256Filter::Thread::Own
                                            : io::Sha256Filter::Thread::Caller);
    raiseUnlessRestored(expected, reader.where(), type, read, "restored");
    // Only a verified file is kept; otherwise the writer removes it.
    if (closer)
        closer->close(std::move(out));
    else
        out->close();
}

}  // namespace backrest::repo
