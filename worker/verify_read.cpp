// verify's reading back of one stored file.
#include "worker/verify_read.h"

#include <fmt/format.h>

#include "common/error.h"
#include "io/buffer.h"
#include "io/file_checksum.h"
#include "io/filter_chain.h"
#include "io/size.h"
#include "pg/wal.h"
#include "repo/codec.h"
#include "repo/file_transfer.h"
#include "repo/framed_fetch.h"
#include "repo/stored_file_reader.h"

namespace backrest::cmd {

bool FramedReadBack::applies(const ReadCheck& check) {
    return !check.frames.empty() && check.type != io::CompressType::None && check.size &&
           check.blockSize == 0;
}

void FramedReadBack::fail(const std::string& problem) {
    std::lock_guard lock(mutex_);
    if (check_.problem.empty()) check_.problem = problem;
    failed_ = true;
    turn_.notify_all();
}

void FramedReadBack::read(size_t k) {
    thread_local io::Buffer compressed, raw;
    std::string where = repo_.fullPath(check_.path);
    repo::ExpectedFile expected{check_.name, check_.holder, *check_.size, check_.checksum,
                                {},          check_.piece};
    try {
        {
            std::lock_guard lock(mutex_);
            if (failed_) return;
            if (!order_) {
                std::string what = fmt::format("'{}'", where);
                order_ = std::make_unique<repo::FrameOrder>(
                    check_.frames.size(), io::checksumTypeOf(check_.checksum, what), what);
            }
        }
        if (!repo_.info(check_.path)) {
            fail(fmt::format("is missing from the repository (expected '{}')", where));
            return;
        }
        raw.reserve(check_.frameBytes + 1);
        repo::readFrame(repo_, check_.path, repo::RepoCodec(check_.type).withKey(check_.key),
                        expected, check_.frameBytes, check_.frames, k, compressed, raw);
    } catch (const Error& e) {
        fail(e.code() == ErrorCode::Checksum || e.code() == ErrorCode::Crypto
                 ? fmt::format("is damaged: {}", e.what())
                 : fmt::format("cannot be read: {}", e.what()));
        return;
    }
    std::unique_lock lock(mutex_);
    turn_.wait(lock, [&] { return failed_ || order_->isTurn(k); });
    if (failed_) return;
    order_->add(k, raw.span());
    turn_.notify_all();
    if (!order_->complete()) return;
    repo::StoredRead read = order_->finish({check_.checksum, *check_.size});
    if (read.fault == repo::StoredFault::Mismatch) {
        check_.problem = fmt::format(
            "is damaged ('{}'): recorded {} bytes with {} {}, read {} bytes with {}", where,
            *check_.size, io::checksumAlgorithm(*io::checksumTypeOf(check_.checksum)),
            check_.checksum, read.size, read.checksum);
        return;
    }
    // The frames add up to repo-size (checked when the manifest loads); the file must end there.
    auto info = repo_.info(check_.path);
    if (info && check_.storedSize && info->size != *check_.storedSize)
        check_.problem =
            fmt::format("has {} bytes in the repository where the manifest records {} ('{}')",
                        info->size, *check_.storedSize, where);
}

namespace {

// A stored segment cut short (or padded) would stop a recovery at it: its size must be the one
// its long page header gives.
std::string walSegmentProblem(const std::string& header, uint64_t size, const std::string& where) {
    try {
        auto h = pg::parseWalHeader(
            {reinterpret_cast<const uint8_t*>(header.data()), header.size()}, where);
        if (h.segmentSize == size) return {};
        return fmt::format(
            "has {} bytes where a WAL segment has {} (its header's segment size) ('{}')", size,
            h.segmentSize, where);
    } catch (const Error& e) {
        return fmt::format("is not a WAL segment: {}", e.what());
    }
}

}  // namespace

namespace {

// What verify says of a fault reading a stored file back (a Mismatch is worded by the caller).
std::string readProblem(const repo::StoredRead& read) {
    // A decompression failure, or a sealed unit that does not open (damaged, or another file's
    // bytes), is damage; anything else (permissions, I/O) is reported as such.
    return read.fault == repo::StoredFault::Undecodable || read.fault == repo::StoredFault::Unopened
               ? fmt::format("is damaged: {}", read.error->what())
               : fmt::format("cannot be read: {}", read.error->what());
}

}  // namespace

// Reads the file back (decompress -> checksum -> size) into a sink that keeps nothing.
void readBack(storage::Storage& repo, ReadCheck& check, size_t bufferSize) {
    repo::StoredFileReader reader(repo, repo::StoredLocation(check.path, check.range),
                                  repo::RepoCodec(check.type).withKey(check.key), check.piece);
    const std::string& where = reader.where();
    try {
        if (!reader.open()) {
            check.problem = fmt::format("is missing from the repository (expected '{}')", where);
            return;
        }
        auto type = io::checksumTypeOf(check.checksum, fmt::format("'{}'", where));
        auto algorithm = io::checksumAlgorithm(type);
        std::string header;  // a WAL segment's first bytes
        auto keepHeader = [&](std::span<const uint8_t> bytes) {
            if (check.walSegment && header.size() < 64)
                header.append(reinterpret_cast<const char*>(bytes.data()),
                              std::min<size_t>(bytes.size(), 64 - header.size()));
        };
        repo::StoredRead read =
            reader.read(type, {check.checksum, check.size}, {.original = keepHeader}, bufferSize);
        if (read.error)
            check.problem = readProblem(read);
        else if (read.fault == repo::StoredFault::Mismatch && check.size)
            check.problem = fmt::format(
                "is damaged ('{}'): recorded {} bytes with {} {}, read {} bytes with {}", where,
                *check.size, algorithm, check.checksum, read.size, read.checksum);
        else if (read.fault == repo::StoredFault::Mismatch)
            check.problem =
                fmt::format("is damaged ('{}'): {} {} expected (from its name), {} read", where,
                            algorithm, check.checksum, read.checksum);
        else if (check.storedSize && read.storedSize != *check.storedSize)
            check.problem =
                fmt::format("has {} bytes in the repository where the manifest records {} ('{}')",
                            read.storedSize, *check.storedSize, where);
        else if (check.walSegment)
            check.problem = walSegmentProblem(header, read.size, where);
    } catch (const Error& e) {
        // Opening the file, or its recorded checksum that is not one.
        check.problem = e.code() == ErrorCode::Compress || e.code() == ErrorCode::Crypto
                            ? fmt::format("is damaged: {}", e.what())
                            : fmt::format("cannot be read: {}", e.what());
    }
}

// Reassembles a block-stored file as restore does, into a sink that keeps nothing; the map's
// own checksum is checked as it loads.
void readBackBlocks(storage::Storage& repo, const repo::Layout& layout, ReadCheck& check,
                    size_t bufferSize) {
    std::string where = repo.fullPath(check.path);
    try {
        auto mapInfo = repo.info(check.path);
        if (!mapInfo) {
            check.problem =
                fmt::format("is missing from the repository (expected block map '{}')", where);
            return;
        }
        auto type = io::checksumTypeOf(
            check.checksum, fmt::format("file '{}' of backup {}", check.name, check.holder));
        auto resolved = repo::resolveBlockMap(repo, layout, check.holder, check.name);
        auto got = repo::reassembleBlocks(
            repo, layout, check.name, resolved, *check.chain, type, [](std::span<const uint8_t>) {},
            bufferSize);
        auto blocks =
            repo.info(repo::blockDataPath(layout, check.holder, check.name,
                                          io::compressExtension(check.chain->at(check.holder))));
        uint64_t stored = mapInfo->size + (blocks ? blocks->size : 0);
        if (resolved.map.blockSize != check.blockSize)
            check.problem =
                fmt::format("has blocks of {} bytes in its map '{}' where the manifest records {}",
                            resolved.map.blockSize, where, check.blockSize);
        else if (got.checksum != check.checksum || got.size != *check.size)
            check.problem = fmt::format(
                "is damaged ('{}'): recorded {} bytes with {} {}, reassembled {} bytes "
                "with {}",
                where, *check.size, io::checksumAlgorithm(type), check.checksum, got.size,
                got.checksum);
        else if (check.storedSize && stored != *check.storedSize)
            check.problem =
                fmt::format("has {} bytes in the repository where the manifest records {} ('{}')",
                            stored, *check.storedSize, where);
    } catch (const Error& e) {
        check.problem = e.code() == ErrorCode::Checksum || e.code() == ErrorCode::Format ||
                                e.code() == ErrorCode::Crypto
                            ? fmt::format("is damaged: {}", e.what())
                            : fmt::format("cannot be read: {}", e.what());
    }
}

}  // namespace backrest::cmd
