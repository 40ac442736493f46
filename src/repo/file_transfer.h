// Moving one file's bytes between the database host and the repository, in one pass through
// the filter chain: backup (read, checksum, compress, write) and restore (read, decompress,
// checksum, write; a mismatch is an error naming the file and the backup).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "io/compress.h"
#include "io/file_checksum.h"
#include "repo/codec.h"
#include "storage/async_close.h"
#include "storage/storage.h"

namespace backrest::repo {

struct StoredFile {
    uint64_t size = 0;      // original bytes
    uint64_t repoSize = 0;  // bytes written to the repository
    std::string checksum;   // of the original bytes, hex (io/file_checksum.h)
    // Set when the file was stored as more than one independent zstd frame (TransferOptions::
    // frameBytes): the compressed size of each frame, in order.
    uint64_t frameBytes = 0;
    std::vector<uint64_t> frames;
};

struct TransferOptions {
    // What is applied to each stored file (repoCodec(config)).
    RepoCodec codec{io::CompressType::Zst, 3};
    io::ChecksumType checksumType = io::ChecksumType::Xxh3;
    // Threads compressing this file while the calling thread reads and checksums it (0: the
    // calling thread compresses): zstd's own for a single stream, the frame compressor's with
    // frameBytes. For a file that is a large part of a backup.
    int compressWorkers = 0;
    // The original size expected (the file's size in the manifest), when known: the compressor
    // sizes its tables for it. The file may still change while it is read.
    uint64_t sizeHint = 0;
    // > 0 with zstd: the file is compressed as independent frames of this many original bytes
    // (io/zstd_frames.h), compressed on compressWorkers threads, so that a restore can
    // decompress it in parallel. For files larger than one frame.
    uint64_t frameBytes = 0;
    size_t bufferSize = 1024 * 1024;
    // When set, finished files are closed (made durable) on its threads instead of inline; the
    // caller must call closer->finish() before it relies on them.
    storage::AsyncCloser* closer = nullptr;
    // When set, called with what was stored once the file is durable (closed, by closer's thread
    // when there is one; never for a file in a bundle, which is durable only with its bundle): a
    // backup journals a file for resuming only then, so a kill -9 between the journal's write and
    // the file's close does not list a file the repository does not hold.
    std::function<void(const StoredFile&)> durable;
    // When set and true, a copy stops at the next buffer with a Cancelled error (a backup whose
    // client went away must release its lock within moments, not after a 1 GiB file).
    const std::atomic<bool>* cancel = nullptr;
    // The repository file is written past the page cache where the storage can
    // (storage::WriteOptions::directAppend): a backup's files, which it never reads back.
    bool directAppend = false;
};

// Where a file's stored bytes are: a repository file of its own (the whole file), or a range of
// a bundle (repo/bundle.h).
struct StoredLocation {
    std::string path;
    storage::ReadRange range;

    StoredLocation(std::string wholeFile) : path(std::move(wholeFile)) {}  // NOLINT: a whole file
    StoredLocation(const char* wholeFile) : path(wholeFile) {}             // NOLINT
    StoredLocation(std::string file, storage::ReadRange part)
        : path(std::move(file)), range(part) {}
    std::unique_ptr<storage::StorageRead> open(storage::Storage& repo, bool ignoreMissing) const {
        return storage::openReadRange(repo, path, range, ignoreMissing);
    }
    // For messages: "/repo/…/pg_data/base/1/1259.zst" or "/repo/…/bundle/3, bytes 8192-9214".
    std::string describe(storage::Storage& repo) const;
};

// Copies `source` into `destination` (repository), compressed (and sealed as `piece`, repo/piece.h,
// when the codec has a key). nullopt when the source file
// vanished (PostgreSQL dropped a relation during the backup). The repository file is written
// atomically and fsynced; its directory is not fsynced (the caller syncs every directory once
// before it writes the manifest).
// `observer`, when given, sees the original bytes too (page checksum validation); the caller
// keeps ownership and reads its result afterwards.
std::optional<StoredFile> storeFile(storage::Storage& source, const std::string& sourcePath,
                                    storage::Storage& destination,
                                    const std::string& destinationPath, const std::string& piece,
                                    const TransferOptions& options, io::Filter* observer = nullptr);

// Appends `source`, stored as storeFile stores it, to `bundle` (an open repository file whose
// close the caller owns): the returned repoSize bytes follow whatever the bundle held before.
// nullopt, and nothing appended, when the source vanished. The file must be small: it is
// compressed on the calling thread, as one stream.
std::optional<StoredFile> appendFile(storage::Storage& source, const std::string& sourcePath,
                                     storage::StorageWrite& bundle, const std::string& piece,
                                     const TransferOptions& options,
                                     io::Filter* observer = nullptr);

// Stores bytes generated during the backup (backup_label, tablespace_map) the same way.
StoredFile storeBytes(std::string_view content, storage::Storage& destination,
                      const std::string& destinationPath, const std::string& piece,
                      const TransferOptions& options);

// Files larger than this are stored as independent frames of this many original bytes. 8 MiB:
// a 1 GiB relation segment is 128 frames, enough for any process-max to share it, and each
// frame is four zstd windows (level 3), so the ratio does not suffer from the cuts.
constexpr uint64_t kFrameBytes = 8ull << 20;

struct ExpectedFile {
    std::string name;   // manifest name, for messages
    std::string label;  // backup holding the bytes, for messages
    uint64_t size = 0;
    std::string checksum;  // hex; its length says the algorithm
    storage::WriteOptions write;
    // What the stored bytes were sealed as (repo/piece.h: backupFilePiece(layout, label, name));
    // read only when the codec has a key.
    std::string piece{};
};

// CryptoError for a stored file whose sealed units do not open (`cause`: the crypto error naming
// the stored file, range and unit).
[[noreturn]] void raiseUnopened(const ExpectedFile& expected, const Error& cause);

// FileMissing for a stored file that is not where the manifest says (`where`).
[[noreturn]] void raiseMissing(const ExpectedFile& expected, const std::string& where);

struct StoredRead;
// Raises what a fault found reading `expected` back (repo/stored_file_reader.h) means to a
// restore: FileMissing or ChecksumError naming the file, the backup and (`where`) the stored
// bytes, CryptoError for a sealed unit that does not open, an I/O error as it was raised. `verb`
// names what was done with the bytes read ("restored"). Returns when there is no fault.
void raiseUnlessRestored(const ExpectedFile& expected, const std::string& where,
                         io::ChecksumType type, const StoredRead& read, std::string_view verb);

// Restores a repository file to `destinationPath`, verifying size and checksum before the file is
// closed; on mismatch the partial file is removed and ChecksumError names file and backup (a
// sealed unit that does not open as expected.piece: CryptoError naming them).
void fetchFile(storage::Storage& source, const StoredLocation& from, const RepoCodec& codec,
               storage::Storage& destination, const std::string& destinationPath,
               const ExpectedFile& expected, size_t bufferSize,
               storage::AsyncCloser* closer = nullptr);

}  // namespace backrest::repo
