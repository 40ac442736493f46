// The posix driver: a local (or mounted) filesystem rooted at a directory.
#pragma once

#include "storage/storage.h"

namespace backrest::storage {

class PosixStorage : public Storage {
  public:
    explicit PosixStorage(std::string root);

    Features features() const override;
    std::unique_ptr<StorageRead> openRead(const std::string& path, bool ignoreMissing,
                                          const ReadRange& range) override;
    std::unique_ptr<StorageWrite> openWrite(const std::string& path,
                                            const WriteOptions& options) override;
    std::optional<FileInfo> info(const std::string& path, bool followLink) override;
    std::vector<FileInfo> list(const std::string& path, bool ignoreMissing) override;
    void remove(const std::string& path, bool errorOnMissing) override;
    void removePath(const std::string& path, bool recursive) override;
    void pathCreate(const std::string& path, mode_t mode) override;
    void pathSync(const std::string& path) override;
    void move(const std::string& from, const std::string& to) override;
    std::string fullPath(const std::string& path) const override;

    const std::string& root() const { return root_; }
    // The path to open on this host (Storage::fullPath is only for messages; here they agree).
    std::string localPath(const std::string& path) const;

  private:
    std::string root_;
};

}  // namespace backrest::storage
