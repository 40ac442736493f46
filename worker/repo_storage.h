// The repository's storage, built from repo1-type and its driver's options: the one place that
// knows which drivers exist.
#pragma once

#include <memory>

#include "common/config.h"
#include "storage/storage.h"

namespace backrest::cmd {

std::unique_ptr<storage::Storage> makeRepoStorage(const Config& config);
// repo_storage_azure.cpp
std::unique_ptr<storage::Storage> makeAzureRepoStorage(const Config& config);

}  // namespace backrest::cmd
