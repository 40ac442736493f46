// repo1-type=s3: the S3 driver's settings from pgBackRest's option names.
#pragma once

#include <memory>

#include "common/config.h"
#include "storage/storage.h"

namespace backrest::cmd {

std::unique_ptr<storage::Storage> makeS3Storage(const Config& config);

}  // namespace backrest::cmd
