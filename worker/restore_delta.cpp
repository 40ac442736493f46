// Delta restore: cleaning the targets and finding the files that already match.
#include "worker/restore_delta.h"

#include <sys/stat.h>

#include <fcntl.h>
#include <mutex>
#include <unordered_map>

#include "common/error.h"
#include "common/log.h"
#include "common/parallel.h"
#include "io/buffer.h"
#include "io/sha256.h"

namespace backrest::cmd {

namespace {

std::string fileSha256(storage::Storage& fs, const std::string& path) {
    auto in = fs.openRead(path, true);
    if (!in) return "";
    io::Sha256Filter sha;
    io::Buffer buffer(1024 * 1024), unused;
    for (size_t n; (n = in->read({buffer.data(), buffer.capacity()})) > 0;) sha.process({buffer.data(), n}, unused);
    sha.finish(unused);
    return sha.hex();
}

void resetModeAndTime(const std::string& path, const repo::ManifestFile& f) {
    if (::chmod(path.c_str(), f.mode) != 0) raiseErrno(ErrorCode::FileWrite, "unable to set mode of", path);
    timespec times[2] = {{f.mtime, 0}, {f.mtime, 0}};
    if (::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0)
        raiseErrno(ErrorCode::FileWrite, "unable to set modification time of", path);
}

}  // namespace

std::set<size_t> prepareDelta(storage::Storage& fs, const DeltaInput& in) {
    std::unordered_map<std::string, size_t> wanted;
    for (size_t i = 0; i < in.fileDestinations.size(); i++) wanted[in.fileDestinations[i]] = i;

    // Walk every root; whatever the backup does not have goes.
    std::vector<std::pair<size_t, std::string>> candidates;
    size_t removed = 0;
    std::vector<std::string> stack(in.roots.begin(), in.roots.end());
    while (!stack.empty()) {
        std::string dir = stack.back();
        stack.pop_back();
        for (const auto& e : fs.list(dir)) {
            std::string path = dir + "/" + e.name;
            if (e.type == storage::FileType::Link) {
                auto link = in.links.find(path);
                if (link != in.links.end() && link->second == e.linkDestination) continue;
                fs.remove(path);
                removed++;
            } else if (e.type == storage::FileType::Path) {
                if (in.directories.count(path)) {
                    stack.push_back(path);
                } else {
                    fs.removePath(path, true);
                    removed++;
                }
            } else {
                auto it = wanted.find(path);
                if (it != wanted.end() && e.type == storage::FileType::File &&
                    e.size == in.manifest->files[it->second].size) {
                    candidates.emplace_back(it->second, path);
                    continue;
                }
                fs.remove(path);
                removed++;
            }
        }
    }

    // Same size: same content? By checksum, or by mtime with --force.
    std::set<size_t> keep;
    std::mutex mutex;
    runParallel(in.processMax, candidates.size(), [&](size_t c) {
        const auto& [index, path] = candidates[c];
        const auto& f = in.manifest->files[index];
        bool same;
        if (in.force) {
            auto info = fs.info(path);
            same = info && info->mtime == f.mtime;
        } else {
            same = fileSha256(fs, path) == f.sha256;
        }
        if (!same) return;
        resetModeAndTime(path, f);
        std::lock_guard lock(mutex);
        keep.insert(index);
    });
    logInfo("restore --delta: kept {} matching files, removed {} entries the backup does not have", keep.size(),
            removed);
    return keep;
}

}  // namespace backrest::cmd
