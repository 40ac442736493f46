// Reading back one stored file: open, decode, count and checksum, with a typed fault.
#include "repo/stored_file_reader.h"

#include "io/buffer.h"
#include "io/filter_chain.h"
#include "io/size.h"

namespace backrest::repo {

namespace {

// A failure while the stored bytes are read and decoded, by its error's code.
StoredFault faultOf(ErrorCode code) {
    switch (code) {
        case ErrorCode::Compress:
            return StoredFault::Undecodable;
        case ErrorCode::Crypto:
            return StoredFault::Unopened;
        default:
            return StoredFault::Unreadable;
    }
}

void compare(StoredRead& read, const StoredExpectation& expected) {
    if (read.checksum != expected.checksum || (expected.size && read.size != *expected.size))
        read.fault = StoredFault::Mismatch;
}

}  // namespace

StoredFileReader::StoredFileReader(storage::Storage& repo, StoredLocation from, RepoCodec codec,
                                   std::string piece)
    : repo_(repo),
      from_(std::move(from)),
      codec_(std::move(codec)),
      piece_(std::move(piece)),
      where_(from_.describe(repo)) {}

bool StoredFileReader::open() {
    in_ = from_.open(repo_, /*ignoreMissing=*/true);
    return in_ != nullptr;
}

StoredRead StoredFileReader::read(io::ChecksumType type, const StoredExpectation& expected,
                                  const Sinks& sinks, size_t bufferSize,
                                  io::Sha256Filter::Thread hash) {
    if (!in_) raise(ErrorCode::Assert, "stored file '{}' read before it was opened", where_);
    // What a sink raises is the caller's (a write on its side): told apart from the reading's.
    bool sinkFailed = false;
    auto pass = [&sinkFailed](const Sink& sink, std::span<const uint8_t> bytes) {
        try {
            sink(bytes);
        } catch (...) {
            sinkFailed = true;
            throw;
        }
    };
    StoredRead result;
    io::FilterChain chain([&](std::span<const uint8_t> bytes) {
        if (sinks.original) pass(sinks.original, bytes);
    });
    codec_.pushDecode(chain, piece_, where_);
    auto& sum = chain.add<io::ChecksumFilter>(type, hash);
    auto& size = chain.add<io::SizeFilter>();
    io::Buffer buffer(bufferSize);
    try {
        for (size_t n; (n = in_->read({buffer.data(), buffer.capacity()})) > 0;) {
            result.storedSize += n;
            chain.write({buffer.data(), n});
            // After the decoding: a damaged file is reported as its decoding finds it.
            if (sinks.stored) pass(sinks.stored, {buffer.data(), n});
        }
        chain.finish();
    } catch (const Error& e) {
        if (sinkFailed) throw;
        result.fault = faultOf(e.code());
        result.error = e;
        result.size = size.bytes();
        return result;
    }
    in_.reset();
    result.size = size.bytes();
    result.checksum = sum.hex();
    compare(result, expected);
    return result;
}

void FrameOrderChecksum::add(std::span<const uint8_t> raw) {
    io::Buffer none;
    sum_.process(raw, none);
    size_ += raw.size();
}

StoredRead FrameOrderChecksum::finish(const StoredExpectation& expected) {
    io::Buffer none;
    sum_.finish(none);
    StoredRead result;
    result.size = size_;
    result.checksum = sum_.hex();
    compare(result, expected);
    return result;
}

}  // namespace backrest::repo
