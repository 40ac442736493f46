// The SFTP driver (repo1-type=sftp): a repository in a directory of an SSH server, over libssh2.
// Besides the common operations it has real directories and an atomic rename (OpenSSH's
// posix-rename), so features().path and .move are set: repository code that still creates
// directories and renames (streamed WAL, resume) runs unchanged. No writes at an offset, O_DIRECT,
// writeback hints, preallocation or ownership.
#pragma once

#include <memory>
#include <mutex>

#include "storage/sftp/sftp_settings.h"
#include "storage/storage.h"

namespace backrest::storage::sftp {

class SftpSession;

class SftpStorage : public Storage {
  public:
    // Connects at once: a wrong key or host key fails here, before anything is written.
    explicit SftpStorage(SftpSettings settings);
    ~SftpStorage() override;

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

    // The path on the server: root joined with path (absolute paths as they are).
    std::string remotePath(const std::string& path) const;
    // The session in use; after it was lost, a new one (reconnect).
    std::shared_ptr<SftpSession> session(const std::shared_ptr<SftpSession>& lost = nullptr);
    // NetworkError naming the server, for a lost connection.
    [[noreturn]] void raiseLost(const std::string& what) const;

  private:
    // Runs an idempotent request; if the connection was lost, once more on a new connection.
    template <typename F>
    auto retry(F&& request);
    void removeTree(SftpSession& s, const std::string& remote);
    void makeDirectory(SftpSession& s, const std::string& dir, mode_t mode);

    SftpSettings settings_;
    std::mutex sessionMutex_;  // guards session_ (the pointer, not the session)
    std::shared_ptr<SftpSession> session_;
};

}  // namespace backrest::storage::sftp
