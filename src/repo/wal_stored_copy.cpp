// Reading back a stored WAL file, and replacing a provably bad one without a moment where the
// archive has no copy under a name archive-get finds.
#include "repo/wal_stored_copy.h"

#include <ctime>

#include "common/error.h"
#include "common/log.h"
#include "io/buffer.h"
#include "io/filter_chain.h"
#include "io/sha256.h"
#include "io/size.h"
#include "pg/wal.h"
#include "repo/codec.h"
#include "repo/piece.h"

namespace backrest::repo {

StoredWalBytes readStoredWal(storage::Storage& repo, const ArchivedWal& stored, size_t bufferSize,
                             const std::function<void(std::span<const uint8_t>)>& sink) {
    StoredWalBytes read;
    auto in = repo.openRead(stored.path);
    io::FilterChain chain([&](std::span<const uint8_t> bytes) {
        if (read.header.size() < 64)
            read.header.append(reinterpret_cast<const char*>(bytes.data()),
                               std::min<size_t>(bytes.size(), 64 - read.header.size()));
        if (sink) sink(bytes);
    });
    RepoCodec(stored.compressType)
        .withKey(stored.key)
        .pushDecode(chain, walPiece(stored.path), repo.fullPath(stored.path));
    auto& sha = chain.add<io::Sha256Filter>();
    auto& size = chain.add<io::SizeFilter>();
    io::Buffer buffer(bufferSize);
    for (size_t n; (n = in->read({buffer.data(), buffer.capacity()})) > 0;)
        chain.write({buffer.data(), n});
    chain.finish();
    read.sha256 = sha.hex();
    read.size = size.bytes();
    return read;
}

std::string storedWalProblem(storage::Storage& repo, const std::string& walName,
                             const ArchivedWal& stored, size_t bufferSize) {
    StoredWalBytes read;
    try {
        read = readStoredWal(repo, stored, bufferSize);
    } catch (const Error& e) {
        // Sealed bytes that do not open as this file's are as bad as bytes that do not decompress.
        if (e.code() == ErrorCode::Crypto)
            return fmt::format("it does not open with the repository key: {}", e.what());
        if (e.code() != ErrorCode::Compress) throw;
        return fmt::format("it does not decompress: {}", e.what());
    }
    if (read.sha256 != stored.sha256)
        return fmt::format("its bytes have SHA-256 {}, not the {} its name records", read.sha256,
                           stored.sha256);
    if (!pg::isWalSegmentName(walName) && !pg::isPartialName(walName)) return {};
    try {
        auto h = pg::parseWalHeader(
            {reinterpret_cast<const uint8_t*>(read.header.data()), read.header.size()},
            repo.fullPath(stored.path));
        if (h.segmentSize != read.size)
            return fmt::format("it has {} bytes where a segment of its cluster has {}", read.size,
                               h.segmentSize);
    } catch (const Error& e) {
        if (e.code() != ErrorCode::Format) throw;
        return fmt::format("it is not a WAL segment: {}", e.what());
    }
    return {};
}

StoredCopyDecision judgeStoredCopy(storage::Storage& repo, const std::string& walName,
                                   const ArchivedWal& existing, const std::string& pushedSha,
                                   size_t bufferSize) {
    std::string problem = storedWalProblem(repo, walName, existing, bufferSize);
    if (!problem.empty()) return {StoredCopyAction::Replace, problem};
    return {
        existing.sha256 == pushedSha ? StoredCopyAction::KeepIdentical : StoredCopyAction::Refuse,
        {}};
}

namespace {

// A whole copy of `from` under `to`, atomic and durable.
void copyStoredFile(storage::Storage& repo, const std::string& from, const std::string& to) {
    auto in = repo.openRead(from);
    auto out = repo.openWrite(to);
    io::Buffer buffer(1024 * 1024);
    for (size_t n; (n = in->read({buffer.data(), buffer.capacity()})) > 0;)
        out->write({buffer.data(), n});
    out->close();
}

}  // namespace

std::string setAsidePath(const std::string& storedPath) {
    return fmt::format("{}.bad-{}", storedPath, static_cast<long long>(std::time(nullptr)));
}

void replaceBadStoredCopy(storage::Storage& repo, const std::string& walName,
                          const ArchivedWal& bad, const std::string& problem,
                          const std::string& goodPath, const std::function<void()>& store,
                          const std::string& what) {
    // No rename (an object store has none): the bad bytes are copied aside. In this order a crash
    // at any step leaves the old state, or a good copy findWal takes (two copies: the good one
    // counts), never no readable copy.
    std::string aside = setAsidePath(bad.path);
    if (bad.path == goodPath) {
        copyStoredFile(repo, bad.path, aside);
        store();  // written over the bad copy, atomically
    } else {
        store();
        copyStoredFile(repo, bad.path, aside);
        repo.remove(bad.path);
    }
    logWarn(
        "{}: the stored copy of WAL file {} ('{}') was bad ({}); stored the pushed copy as '{}' "
        "and set the bad one aside as '{}' (remove it once it is of no more interest)",
        what, walName, repo.fullPath(bad.path), problem, repo.fullPath(goodPath),
        repo.fullPath(aside));
}

}  // namespace backrest::repo
