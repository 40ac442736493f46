// The Azure Blob Storage driver (repo1-type=azure): a repository in one container, under a
// prefix. Files are block blobs: a small one is one Put Blob, a large one Put Blocks (uploaded in
// parallel) and a Put Block List that makes it appear whole. Reads are ranged GETs in chunks,
// listing is List Blobs with delimiter '/' page by page. No directories, no rename: Features
// are all false.
#pragma once

#include <functional>
#include <memory>

#include "storage/azure/blob_client.h"
#include "storage/azure/blob_xml.h"
#include "storage/storage.h"

namespace backrest::storage::azure {

class AzureStorage : public Storage {
  public:
    explicit AzureStorage(AzureSettings settings);

    Features features() const override { return {}; }

    std::unique_ptr<StorageRead> openRead(const std::string& path, bool ignoreMissing = false,
                                          const ReadRange& range = {}) override;
    std::unique_ptr<StorageWrite> openWrite(const std::string& path,
                                            const WriteOptions& options = {}) override;
    std::optional<FileInfo> info(const std::string& path, bool followLink = false) override;
    std::vector<FileInfo> list(const std::string& path, bool ignoreMissing = true) override;
    std::vector<FileInfo> listPrefix(const std::string& path,
                                     const std::string& namePrefix) override;
    void remove(const std::string& path, bool errorOnMissing = false) override;
    void removePath(const std::string& path, bool recursive) override;
    std::string fullPath(const std::string& path) const override;

    // A path exists on an object store while a blob is under it: creating one is nothing to do,
    // so code written for directories (stanza-create) runs unchanged.
    void pathCreate(const std::string& path, mode_t mode = 0750) override;

    const AzureSettings& settings() const { return client_->settings(); }

    // The blob name of `path`: the prefix joined with it, no leading '/'.
    std::string blobName(const std::string& path) const;

  private:
    // Every blob under `prefix` (ending in '/', or empty for the whole container), all pages;
    // with `delimiter`, one level only (prefixes returned as paths).
    void listPages(const std::string& prefix, bool delimiter,
                   const std::function<void(const ListPage&)>& onPage);

    std::shared_ptr<BlobClient> client_;
};

// The reader and writer (blob_read.cpp, blob_write.cpp).
std::unique_ptr<StorageRead> openBlobRead(std::shared_ptr<BlobClient> client,
                                          const std::string& path, const std::string& blob,
                                          bool ignoreMissing, const ReadRange& range);
std::unique_ptr<StorageWrite> openBlobWrite(std::shared_ptr<BlobClient> client,
                                            const std::string& path, const std::string& blob);

}  // namespace backrest::storage::azure
