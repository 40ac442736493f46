// Ownership of what a restore creates, when it runs as root.
#include "worker/restore_owner.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <vector>

#include "common/error.h"
#include "common/log.h"

namespace backrest::cmd {

namespace {

void syncDirectory(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) raiseErrno(ErrorCode::FileOpen, "unable to open directory to sync", path);
    int rc = ::fsync(fd);
    int err = errno;
    ::close(fd);
    errno = err;
    if (rc != 0) raiseErrno(ErrorCode::FileWrite, "unable to sync directory", path);
}

}  // namespace

RestoreOwner::RestoreOwner(const std::string& dataPath, const repo::Manifest& manifest)
    : root_(geteuid() == 0) {
    if (!root_) return;
    for (const auto& p : manifest.paths)
        if (p.name == "pg_data") dataOwner_ = resolve(p.user, p.group);
    struct stat st {};
    if (!dataOwner_ && ::stat(dataPath.c_str(), &st) == 0)
        dataOwner_ = std::make_pair(st.st_uid, st.st_gid);
    if (!dataOwner_)
        logWarn(
            "restore as root: the backup's data directory owner is not a user on this host and "
            "'{}' does not "
            "exist: what restore writes itself stays root's; chown it to the PostgreSQL user "
            "before starting",
            dataPath);
}

void RestoreOwner::apply(const std::string& path, const std::string& user,
                         const std::string& group) {
    if (!root_ || user.empty()) return;
    own(path, resolve(user, group));  // unknown here: the file keeps the restoring user
}

void RestoreOwner::adopt(const std::string& path) {
    if (root_) own(path, dataOwner_);
}

void RestoreOwner::createPath(const std::string& path, mode_t mode) {
    std::vector<std::string> missing;
    std::filesystem::path p(path);
    for (; !p.empty() && p != p.root_path(); p = p.parent_path()) {
        struct stat st {};
        if (::lstat(p.c_str(), &st) == 0) break;
        missing.push_back(p.string());
    }
    for (size_t i = missing.size(); i-- > 0;) {
        const std::string& dir = missing[i];
        mode_t m = i == 0 ? mode : 0700;
        if (::mkdir(dir.c_str(), m) != 0 && errno != EEXIST)
            raiseErrno(ErrorCode::FileWrite, "unable to create path", dir);
        if (::chmod(dir.c_str(), m) != 0)
            raiseErrno(ErrorCode::FileWrite, "unable to set mode of path", dir);
        adopt(dir);
        syncDirectory(std::filesystem::path(dir).parent_path().string());
    }
}

RestoreOwner::Ids RestoreOwner::resolve(const std::string& user, const std::string& group) {
    std::lock_guard lock(mutex_);
    auto [it, added] = known_.try_emplace({user, group});
    if (!added) return it->second;
    struct passwd* pw = getpwnam(user.c_str());
    if (!pw) return it->second;
    uid_t uid = pw->pw_uid;
    gid_t gid = pw->pw_gid;
    if (struct group* gr = group.empty() ? nullptr : getgrnam(group.c_str())) gid = gr->gr_gid;
    it->second = std::make_pair(uid, gid);
    return it->second;
}

void RestoreOwner::own(const std::string& path, const Ids& ids) {
    if (!ids) return;
    if (::lchown(path.c_str(), ids->first, ids->second) != 0)
        raiseErrno(ErrorCode::FileWrite, "unable to set owner of", path);
}

}  // namespace backrest::cmd
