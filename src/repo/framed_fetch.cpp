// Frame-by-frame restore of a file stored as independent zstd frames, with the whole file's
// checksum taken in frame order.
#include "repo/framed_fetch.h"

#include <algorithm>
#include <cstring>

#include "common/error.h"

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

[[noreturn]] void raiseDamaged(storage::Storage& source, const std::string& sourcePath,
                               const ExpectedFile& expected, size_t k, size_t count,
                               const std::string& what) {
    raise(ErrorCode::Checksum,
          "file '{}' of backup {} is damaged in the repository ('{}'): frame {} of {}: {}",
          expected.name, expected.label, source.fullPath(sourcePath), k, count, what);
}

}  // namespace

void readFrame(storage::Storage& source, const std::string& sourcePath, const RepoCodec& codec,
               const ExpectedFile& expected, uint64_t frameBytes,
               const std::vector<uint64_t>& frames, size_t k, io::Buffer& compressed,
               io::Buffer& out) {
    auto in = source.openRead(sourcePath, /*ignoreMissing=*/true);
    if (!in) raiseMissing(expected, source.fullPath(sourcePath));
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
        codec.decodeFrame(
            compressed.span(), expected.piece, k, frameRawBytes(expected.size, frameBytes, k), out,
            fmt::format("'{}', frame {} of {}", source.fullPath(sourcePath), k, frames.size()));
    } catch (const Error& e) {
        if (e.code() == ErrorCode::Crypto) raiseUnopened(expected, e);
        if (e.code() != ErrorCode::Compress) throw;
        raiseDamaged(source, sourcePath, expected, k, frames.size(), e.what());
    }
}

FramedFetch::FramedFetch(storage::Storage& source, std::string sourcePath, RepoCodec codec,
                         storage::PosixStorage& destination, std::string destinationPath,
                         ExpectedFile expected, uint64_t frameBytes, std::vector<uint64_t> frames,
                         storage::AsyncCloser* closer, Mode mode, FrameWriter* writer)
    : source_(source),
      sourcePath_(std::move(sourcePath)),
      codec_(codec),
      destination_(destination),
      destinationPath_(std::move(destinationPath)),
      expected_(std::move(expected)),
      frameBytes_(frameBytes),
      frames_(std::move(frames)),
      closer_(closer),
      mode_(mode),
      writer_(mode == Mode::Create ? writer : nullptr) {
    // Frames are written once, whole and page-aligned, and not read back: past the page cache.
    if (mode_ == Mode::Create) {
        expected_.write.size = expected_.size;
        expected_.write.direct = true;
    }
}

// An unclosed out_ removes the partial file, once no write queued on writer_ refers to it.
FramedFetch::~FramedFetch() {
    std::unique_lock lock(mutex_);
    turn_.wait(lock, [&] { return writesPending_ == 0; });
}

void FramedFetch::fetch(size_t k) {
    // Per thread: a frame's buffers are reused by the next frame this thread restores.
    thread_local io::Buffer compressed, raw;
    try {
        fetchOne(k, compressed, raw);
    } catch (...) {
        // Frames written after this one wait for it in vain: their buffers go back to the pool
        // (another file's job may be waiting for one).
        std::vector<std::unique_ptr<io::Buffer>> orphans;
        {
            std::lock_guard lock(mutex_);
            if (!failure_) failure_ = std::current_exception();
            if (order_) orphans = order_->dropParked();
            turn_.notify_all();
        }
        for (auto& buffer : orphans) writer_->giveBack(std::move(buffer));
        throw;
    }
}

void FramedFetch::openOnce() {
    std::lock_guard lock(mutex_);
    if (failure_) std::rethrow_exception(failure_);
    if (order_) return;
    // O_TRUNC: a delta restore replaces the file.
    if (mode_ == Mode::Create)
        out_ = destination_.openWrite(destinationPath_, expected_.write);
    else {
        patch_ = std::make_unique<storage::PatchFile>(destination_, destinationPath_);
        patchedSizeChanged_ = patch_->sizeAtOpen() != expected_.size;
    }
    std::string what = fmt::format("file '{}' of backup {}", expected_.name, expected_.label);
    order_ = std::make_unique<FrameOrder>(frames_.size(),
                                          io::checksumTypeOf(expected_.checksum, what), what);
}

void FramedFetch::fetchOne(size_t k, io::Buffer& compressed, io::Buffer& raw) {
    openOnce();
    if (writer_) return fetchBehind(k, compressed);
    readFrame(source_, sourcePath_, codec_, expected_, frameBytes_, frames_, k, compressed, raw);
    if (mode_ == Mode::Patch)
        patchFrame(k, raw);
    else
        out_->writeAt(static_cast<uint64_t>(k) * frameBytes_, raw.span());

    std::unique_lock lock(mutex_);
    turn_.wait(lock, [&] { return failure_ || order_->isTurn(k); });
    if (failure_) std::rethrow_exception(failure_);
    order_->add(k, raw.span());
    countFrame();
    if (verified_) closeFile();  // every frame was written before its turn
    turn_.notify_all();
}

void FramedFetch::fetchBehind(size_t k, io::Buffer& compressed) {
    // Buffers in frame order (see the class comment): wait for the frames before to have theirs.
    {
        std::unique_lock lock(mutex_);
        turn_.wait(lock, [&] { return failure_ || nextToTake_ == k; });
        if (failure_) std::rethrow_exception(failure_);
    }
    // Given back to the pool on any failure before the write has it (the pool must not shrink).
    struct Pooled {
        FrameWriter* writer;
        std::unique_ptr<io::Buffer> buffer;
        ~Pooled() { writer->giveBack(std::move(buffer)); }
    } pooled{writer_, writer_->take()};
    {
        std::lock_guard lock(mutex_);
        nextToTake_ = k + 1;
        turn_.notify_all();
    }
    readFrame(source_, sourcePath_, codec_, expected_, frameBytes_, frames_, k, compressed,
              *pooled.buffer);
    {
        std::lock_guard lock(mutex_);
        writesPending_++;
    }
    try {
        writer_->write(*out_, static_cast<uint64_t>(k) * frameBytes_, std::move(pooled.buffer),
                       [this, k](std::unique_ptr<io::Buffer>& raw, std::exception_ptr error) {
                           written(k, raw, error);
                       });
    } catch (...) {
        std::lock_guard lock(mutex_);
        writesPending_--;  // refused: written() will not be called
        turn_.notify_all();
        throw;
    }
}

// Under mutex_, after a frame's turn: after the last frame, the whole file's checksum is compared.
void FramedFetch::countFrame() {
    if (!order_->complete()) return;
    StoredRead read = order_->finish({expected_.checksum, expected_.size});
    if (read.fault == StoredFault::Mismatch)
        raise(ErrorCode::Checksum,
              "file '{}' of backup {} is damaged in the repository ('{}'): recorded {} bytes with "
              "{} {}, "
              "restored {} bytes with {}",
              expected_.name, expected_.label, source_.fullPath(sourcePath_), expected_.size,
              io::checksumAlgorithm(*io::checksumTypeOf(expected_.checksum)), expected_.checksum,
              read.size, read.checksum);
    verified_ = true;
}

// Whichever writing thread finds the next frame in file order written checksums it, and every
// written frame after it; the others leave theirs parked. The lock is released while hashing
// (the jobs need it to start their frames); the turn it took keeps the frames in order.
void FramedFetch::written(size_t k, std::unique_ptr<io::Buffer>& raw, std::exception_ptr error) {
    std::vector<std::unique_ptr<io::Buffer>> done;  // back to the pool once the lock is released
    std::exception_ptr mine;
    FrameWriter* const writer = writer_;  // *this may be gone once the lock is released
    {
        std::unique_lock lock(mutex_);
        if (error && !failure_) failure_ = error;
        try {
            if (!failure_) order_->park(k, std::move(raw));
        } catch (...) {
            mine = failure_ = std::current_exception();  // a frame handed over twice
        }
        while (!failure_) {
            auto next = order_->takeTurn();
            if (!next) break;
            lock.unlock();
            order_->addTaken(next->span());
            lock.lock();
            order_->passTurn();
            try {
                countFrame();
            } catch (...) {
                mine = failure_ = std::current_exception();
            }
            done.push_back(std::move(next));
        }
        if (failure_)
            for (auto& buffer : order_->dropParked()) done.push_back(std::move(buffer));
        // Every frame checksummed means every frame written: this is the last write's call.
        if (verified_ && !failure_ && !order_->hasParked() && writesPending_ == 1) {
            try {
                closeFile();
            } catch (...) {
                mine = failure_ = std::current_exception();
            }
        }
        writesPending_--;
        turn_.notify_all();  // under the lock: the destructor may run as soon as it is released
    }
    for (auto& buffer : done) writer->giveBack(std::move(buffer));
    if (mine) std::rethrow_exception(mine);
}

void FramedFetch::closeFile() {
    if (mode_ == Mode::Patch) {
        patch_->truncate(expected_.size);
        if (pagesWritten_ > 0 || patchedSizeChanged_) patch_->sync();
        patch_->close();
    } else if (closer_)
        closer_->close(std::move(out_));
    else
        out_->close();
}

// Reads the local file's copy of the frame's range at once and rewrites only the pages that
// differ (most do not: a delta restore is mostly a comparison).
void FramedFetch::patchFrame(size_t k, const io::Buffer& raw) {
    constexpr size_t kPage = 8192;
    thread_local io::Buffer local;
    const uint64_t start = static_cast<uint64_t>(k) * frameBytes_;
    local.clear();
    // Shorter: the rest is written.
    size_t have = patch_->readAt(start, {local.ensureFree(raw.size()), raw.size()});
    local.commit(have);
    uint64_t written = 0;
    for (size_t at = 0; at < raw.size(); at += kPage) {
        size_t n = std::min(kPage, raw.size() - at);
        if (at + n <= have && std::memcmp(local.data() + at, raw.data() + at, n) == 0) continue;
        patch_->writeAt(start + at, raw.span().subspan(at, n));
        written++;
    }
    pagesWritten_ += written;
}

}  // namespace backrest::repo
