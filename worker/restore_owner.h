// Who owns what a restore creates: run as root, every directory, file and link it makes belongs
// to the cluster's owner, or PostgreSQL (not root) cannot read it: an unreadable
// postgresql.auto.conf is skipped and recovery ignores its target.
#pragma once
#include <sys/types.h>

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "repo/manifest.h"

namespace backrest::cmd {

class RestoreOwner {
  public:
    // The data directory's owner: the backup's pg_data owner when that user exists here (the
    // owner restore gives pg1-path), else the owner pg1-path already has.
    RestoreOwner(const std::string& dataPath, const repo::Manifest& manifest);

    // A file, directory or link restored from the backup: the owner recorded for it.
    void apply(const std::string& path, const std::string& user, const std::string& group);
    // Something restore writes itself (recovery settings, signal files, tablespace_map, links,
    // its marker, directories it had to create): the data directory's owner.
    void adopt(const std::string& path);
    // Creates `path` and its missing parents (mode 0700 for the parents), each adopted.
    void createPath(const std::string& path, mode_t mode);

  private:
    using Ids = std::optional<std::pair<uid_t, gid_t>>;
    Ids resolve(const std::string& user, const std::string& group);
    void own(const std::string& path, const Ids& ids);

    const bool root_;
    std::mutex mutex_;
    // getpwnam reads /etc/passwd on every call and returns a static buffer the restoring threads
    // must not share: each (user, group) is resolved once.
    std::map<std::pair<std::string, std::string>, Ids> known_;
    Ids dataOwner_;
};

}  // namespace backrest::cmd
