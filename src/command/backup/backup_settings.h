// What a backup is told: by its driver (the CLI or the worker daemon) before it begins, by
// pg_backup_start before it copies and by pg_backup_stop before it finishes; and the progress it
// reports back.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "repo/bundle.h"
#include "repo/file_transfer.h"
#include "repo/layout.h"
#include "repo/lock.h"
#include "repo/manifest.h"
#include "storage/storage.h"

namespace backrest::backup {

struct BackupSettings {
    storage::Storage* repo = nullptr;
    repo::Layout layout;
    repo::TransferOptions transfer;
    size_t processMax = 1;
    std::string lockPath;
    std::string pgPath;  // absolute data directory
    // The data directory's storage (a PosixStorage of pgPath): given by the caller, so that the
    // job knows no driver.
    std::shared_ptr<storage::Storage> pgData;
    bool archiveCheck = true;
    int archiveTimeout = 60;  // seconds
    // Seconds to wait for the stanza lock while this process holds it and lockWaitWhile() says
    // the holder is only unwinding (the daemon: a backup whose client hung up); 0: refused at once.
    int lockWait = 0;
    std::function<bool()> lockWaitWhile;
    // The stanza lock, taken by the caller (backup --repo=all: one lock for every repository's
    // job, as the lock is the stanza's on this host); null: the job takes it.
    std::shared_ptr<repo::StanzaLock> heldLock;
    // repo1-block: files of at least kBlockMinFileSize are stored as blocks, and a changed file
    // stores only the blocks that differ from the prior backup's.
    bool block = false;
    // repo1-bundle: files of at most bundle.limit bytes (and not block-stored) are stored
    // together in bundles (repo/bundle.h).
    repo::BundleSettings bundle;
    // backup --annotation=key=value (repo/annotation.h): kept in the manifest.
    std::map<std::string, std::string> annotations;
};

// What pg_backup_start and the server tell the job.
struct BackupStart {
    std::string lsn;      // pg_backup_start's LSN
    std::string walFile;  // pg_walfile_name of it
    int64_t timestamp = 0;
    uint32_t walSegmentSize = 0;
    bool dataChecksums = false;
    std::map<uint32_t, std::string> tablespaceNames;
    // pg_database at backup start (info --set lists the databases by name); nullopt: not asked.
    std::optional<std::vector<repo::ManifestDatabase>> databases;
};

// What pg_backup_stop returns.
struct BackupStop {
    std::string lsn;
    std::string walFile;
    std::string labelFile;
    std::string tablespaceMap;
};

struct BackupProgress {
    uint64_t bytesTotal = 0, bytesDone = 0;
    uint64_t filesTotal = 0, filesDone = 0;
};

// The one message of a cancelled backup (BackupJob::cancel), wherever its steps notice it.
inline void checkCancelled(const std::atomic<bool>& cancelled, const std::string& label) {
    if (cancelled) raise(ErrorCode::Cancelled, "backup {} was cancelled", label);
}

}  // namespace backrest::backup
