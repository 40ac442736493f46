// The local file a streamed WAL segment is gathered in (spool-path) until it is complete and its
// name, the checksum of its bytes, is known: the repository then receives it whole, in one
// atomic write, since an object store has no rename and no appends.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>

#include "repo/file_lock.h"
#include "repo/layout.h"
#include "storage/storage.h"

namespace backrest::repo {

// Creates spool-path (mode 0770, given to `owner` when we are root, as lock-path) and checks we
// can create files in it: FileOpenError naming the directory, its owner and mode otherwise.
void ensureSpoolDirectory(const std::string& path,
                          const std::optional<LockOwner>& owner = std::nullopt);

class WalSpool {
  public:
    // <spool-path>/<stanza>-<segment>.stream.<pid>.<n>: the pid tells a later daemon whether its
    // writer is gone; n tells two streams of one process apart.
    WalSpool(const std::string& spoolPath, const std::string& stanza, const std::string& walName);
    ~WalSpool();  // the spool file goes
    void write(std::span<const uint8_t> bytes);
    // Makes the bytes written so far durable (fdatasync of the spool file).
    void syncWritten();
    // Ends the spool file's writing; its bytes, for the repository's write.
    std::unique_ptr<storage::StorageRead> read();
    std::string fullPath() const;

  private:
    std::unique_ptr<storage::Storage> dir_;
    std::string name_;
    std::unique_ptr<storage::StorageWrite> out_;
    bool closed_ = false;
};

// Removes the spool files of `stanza` whose daemon is gone (killed mid-segment).
void removeAbandonedSpool(const std::string& spoolPath, const std::string& stanza);

// backrest 0.1.0 streamed into "<segment>.stream.<pid>.tmp" beside the archived segments of a
// posix repository: those its dead daemons left in the directory of `walName` go (nothing to do
// on a storage that was never written so).
void removeLegacyStreamFiles(storage::Storage& repo, const Layout& layout,
                             const std::string& archiveId, const std::string& walName);

}  // namespace backrest::repo
