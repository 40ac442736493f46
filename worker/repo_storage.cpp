// repo1-type → driver. Each driver's options are read here, into the settings its constructor
// takes, so that drivers never see the configuration (and tests build them directly).
#include "worker/repo_storage.h"

#include "common/error.h"
#include "storage/posix.h"
#include "worker/repo_storage_s3.h"
#include "worker/repo_storage_sftp.h"

namespace backrest::cmd {

namespace {

std::unique_ptr<storage::Storage> makePosix(const Config& config) {
    std::string path = config.getString(opt::repo1Path);
    if (path.empty() || path[0] != '/')
        raise(ErrorCode::Option, "option 'repo1-path' must be an absolute path, not '{}'", path);
    return std::make_unique<storage::PosixStorage>(path);
}

}  // namespace

std::unique_ptr<storage::Storage> makeRepoStorage(const Config& config) {
    std::string type = config.getString(opt::repo1Type);
    if (type == "posix") return makePosix(config);
    if (type == "sftp") return makeSftpRepoStorage(config);
    if (type == "azure") return makeAzureRepoStorage(config);
    if (type == "s3") return makeS3Storage(config);
    // s3, azure, sftp: one line each here, and the driver's options in common/options.cpp.
    raise(ErrorCode::Option, "option 'repo1-type' has an unknown value '{}'", type);
}

}  // namespace backrest::cmd
