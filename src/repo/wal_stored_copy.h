// A stored copy of a WAL file judged by reading it back, and the one decision both push paths
// (pushWal, StreamedWal::finish) take when the name they store is already in the archive: keep an
// identical good copy, refuse a different good one, replace a provably bad one (setting it aside,
// never deleting it).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "repo/wal_archive.h"
#include "storage/storage.h"

namespace backrest::repo {

// The original bytes of a stored WAL file read back: decompressed (CompressError when they do
// not), hashed, counted, their first 64 bytes kept (the long page header), each passed to `sink`.
struct StoredWalBytes {
    std::string sha256;
    uint64_t size = 0;
    std::string header;
};
StoredWalBytes readStoredWal(storage::Storage& repo, const ArchivedWal& stored, size_t bufferSize,
                             const std::function<void(std::span<const uint8_t>)>& sink = {});

// Why a stored copy is provably bad, or empty when it is good: it does not decompress, its bytes
// do not hash to the SHA-256 in its name, or (a segment) it does not start with a WAL page header
// or its size is not the segment size that header gives. Other failures (a permission, an I/O
// error) prove nothing about the copy and are raised.
std::string storedWalProblem(storage::Storage& repo, const std::string& walName,
                             const ArchivedWal& stored, size_t bufferSize);

enum class StoredCopyAction {
    KeepIdentical,  // good and the same bytes: nothing to store
    Refuse,         // good and different bytes: ArchiveDuplicate, as ever
    Replace,        // provably bad: store the pushed copy, set this one aside
};

struct StoredCopyDecision {
    StoredCopyAction action;
    std::string problem;  // why the stored copy is bad (Replace)
};

// What to do with `existing` when a copy of `walName` with SHA-256 `pushedSha` is pushed.
StoredCopyDecision judgeStoredCopy(storage::Storage& repo, const std::string& walName,
                                   const ArchivedWal& existing, const std::string& pushedSha,
                                   size_t bufferSize);

// Where a bad copy is set aside: "<its name>.bad-<unix time>", a name findWal never returns.
std::string setAsidePath(const std::string& storedPath);

// A bad copy set aside (by archive-push, or by hand as a warning says): never an archived file,
// so the archive listings of restore, info and the timeline checks skip it as archive-get does.
inline bool isSetAsideName(std::string_view name) {
    return name.find(".bad-") != std::string_view::npos;
}

// Replaces the bad stored copy `bad` by the good one `store` makes durable under `goodPath`.
// At every moment one of them is stored under a name findWal returns: under the same name (same
// SHA-256), the bad bytes are first copied aside and the good file then renamed over them; under
// another name, the good one is stored first and the bad one then renamed aside (findWal takes the
// good one of the two if a crash comes in between, and logs the bad one). Logs a WARNING naming
// both files.
void replaceBadStoredCopy(storage::Storage& repo, const std::string& walName,
                          const ArchivedWal& bad, const std::string& problem,
                          const std::string& goodPath, const std::function<void()>& store,
                          const std::string& what);

}  // namespace backrest::repo
