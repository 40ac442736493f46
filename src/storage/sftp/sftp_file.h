// Reading and writing one file of the SFTP repository.
#pragma once

#include <memory>

#include "storage/sftp/sftp_storage.h"

namespace backrest::storage::sftp {

// Missing file: nullptr when ignoreMissing, else FileMissingError.
std::unique_ptr<StorageRead> openSftpRead(SftpStorage& storage, const std::string& path,
                                          bool ignoreMissing);
// Writes "<path>.tmp" (atomic), made durable (fsync@openssh.com) and renamed over <path> at close.
std::unique_ptr<StorageWrite> openSftpWrite(SftpStorage& storage, const std::string& path,
                                            const WriteOptions& options);

}  // namespace backrest::storage::sftp
