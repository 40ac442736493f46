// Frame-by-frame restore of a file stored as independent zstd frames, with the whole file's
// checksum taken in frame order.
#include "repo/framed_fetch.h"

#include <algorithm>

#include "common/error.h"
#include "io/zstd_frames.h"

namespace backrest::repo {

namespace {

uint64_t frameOffset(const std::vector<uint64_t>& frames, size_t k) {
    uint64_t offset = 0;
    for (size_t i = 0; i < k; i++) offset += frames[i];
    return offset;
}

uint64_t frameRawBytes(uint64_t fileSize, uint64_t frameBytes, size_t k) {
    uint64_t start = static_cast<uint64_t>(k) * frameBytes;
    return start >= fileSize ? 0 : std::min(frameBytes, fileSize - start);
}

[[noreturn]] void raiseDamaged(storage::Storage& source, const std::string& sourcePath, const ExpectedFile& expected,
                               size_t k, size_t count, const std::string& what) {
    raise(ErrorCode::Checksum, "file '{}' of backup {} is damaged in the repository ('{}'): frame {} of {}: {}",
          expected.name, expected.label, source.fullPath(sourcePath), k, count, what);
}

}  // namespace

void readFrame(storage::Storage& source, const std::string& sourcePath, const ExpectedFile& expected,
               uint64_t frameBytes, const std::vector<uint64_t>& frames, size_t k, io::Buffer& compressed,
               io::Buffer& out) {
    auto in = source.openRead(sourcePath, /*ignoreMissing=*/true);
    if (!in)
        raise(ErrorCode::FileMissing, "file '{}' of backup {} is missing from the repository (expected '{}')",
              expected.name, expected.label, source.fullPath(sourcePath));
    in->seek(frameOffset(frames, k));
    compressed.clear();
    compressed.reserve(frames[k]);
    while (compressed.size() < frames[k]) {
        size_t n = in->read({compressed.tail(), frames[k] - compressed.size()});
        if (n == 0)
            raiseDamaged(source, sourcePath, expected, k, frames.size(),
                         "the repository file ends inside it (truncated)");
        compressed.commit(n);
    }
    try {
        io::decompressFrame(compressed.span(), frameRawBytes(expected.size, frameBytes, k), out,
                            source.fullPath(sourcePath));
    } catch (const Error& e) {
        if (e.code() != ErrorCode::Compress) throw;
        raiseDamaged(source, sourcePath, expected, k, frames.size(), e.what());
    }
}

FramedFetch::FramedFetch(storage::Storage& source, std::string sourcePath, storage::Storage& destination,
                         std::string destinationPath, ExpectedFile expected, uint64_t frameBytes,
                         std::vector<uint64_t> frames, storage::AsyncCloser* closer)
    : source_(source),
      sourcePath_(std::move(sourcePath)),
      destination_(destination),
      destinationPath_(std::move(destinationPath)),
      expected_(std::move(expected)),
      frameBytes_(frameBytes),
      frames_(std::move(frames)),
      closer_(closer) {}

FramedFetch::~FramedFetch() = default;  // an unclosed out_ removes the partial file

void FramedFetch::fetch(size_t k) {
    // Per thread: a frame's buffers are reused by the next frame this thread restores.
    thread_local io::Buffer compressed, raw;
    try {
        fetchOne(k, compressed, raw);
    } catch (...) {
        std::lock_guard lock(mutex_);
        if (!failure_) failure_ = std::current_exception();
        turn_.notify_all();
        throw;
    }
}

void FramedFetch::fetchOne(size_t k, io::Buffer& compressed, io::Buffer& raw) {
    {
        // The first job to start creates the file (O_TRUNC: a delta restore replaces it).
        std::lock_guard lock(mutex_);
        if (failure_) std::rethrow_exception(failure_);
        if (!out_ && nextToChecksum_ == 0) {
            out_ = destination_.openWrite(destinationPath_, expected_.write);
            sum_ = std::make_unique<io::ChecksumFilter>(io::checksumTypeOf(
                expected_.checksum, fmt::format("file '{}' of backup {}", expected_.name, expected_.label)));
        }
    }
    readFrame(source_, sourcePath_, expected_, frameBytes_, frames_, k, compressed, raw);
    out_->writeAt(static_cast<uint64_t>(k) * frameBytes_, raw.span());

    std::unique_lock lock(mutex_);
    turn_.wait(lock, [&] { return failure_ || nextToChecksum_ == k; });
    if (failure_) std::rethrow_exception(failure_);
    io::Buffer none;
    sum_->process(raw.span(), none);
    checksummed_ += raw.size();
    nextToChecksum_ = k + 1;
    if (nextToChecksum_ == frames_.size()) {
        sum_->finish(none);
        if (sum_->hex() != expected_.checksum || checksummed_ != expected_.size)
            raise(ErrorCode::Checksum,
                  "file '{}' of backup {} is damaged in the repository ('{}'): recorded {} bytes with {} {}, "
                  "restored {} bytes with {}",
                  expected_.name, expected_.label, source_.fullPath(sourcePath_), expected_.size,
                  io::checksumAlgorithm(*io::checksumTypeOf(expected_.checksum)), expected_.checksum, checksummed_,
                  sum_->hex());
        // Every frame's bytes are written: a job writes before it takes its turn.
        if (closer_)
            closer_->close(std::move(out_));
        else
            out_->close();
    }
    turn_.notify_all();
}

void verifyFrames(storage::Storage& source, const std::string& sourcePath, const ExpectedFile& expected,
                  uint64_t frameBytes, const std::vector<uint64_t>& frames) {
    auto type = io::checksumTypeOf(expected.checksum, fmt::format("file '{}' of backup {}", expected.name, expected.label));
    io::ChecksumFilter sum(type);
    io::Buffer compressed, raw, none;
    uint64_t size = 0;
    for (size_t k = 0; k < frames.size(); k++) {
        readFrame(source, sourcePath, expected, frameBytes, frames, k, compressed, raw);
        sum.process(raw.span(), none);
        size += raw.size();
    }
    sum.finish(none);
    if (sum.hex() != expected.checksum || size != expected.size)
        raise(ErrorCode::Checksum,
              "file '{}' of backup {} is damaged in the repository ('{}'): recorded {} bytes with {} {}, read {} "
              "bytes with {}",
              expected.name, expected.label, source.fullPath(sourcePath), expected.size, io::checksumAlgorithm(type),
              expected.checksum, size, sum.hex());
}

}  // namespace backrest::repo
