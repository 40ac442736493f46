// repo1-type=sftp: the SFTP driver built from pgBackRest 2.46's repo1-sftp-* options.
#pragma once

#include <memory>

#include "common/config.h"
#include "storage/storage.h"

namespace backrest::cmd {

std::unique_ptr<storage::Storage> makeSftpRepoStorage(const Config& config);

}  // namespace backrest::cmd
