// Delta restore: cleaning the targets and finding the files that already match.
#include "worker/restore_delta.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "common/error.h"
#include "common/log.h"
#include "common/parallel.h"
#include "io/buffer.h"
#include "io/file_checksum.h"
#include "repo/stored_file_reader.h"
#include "storage/patch_file.h"

namespace backrest::cmd {

namespace {

// The local file's checksum, in the algorithm of the one recorded (`like`); "" when it is gone.
std::string fileChecksum(storage::Storage& fs, const std::string& path, const std::string& like) {
    auto type = io::checksumTypeOf(like, fmt::format("file '{}'", path));
    auto in = fs.openRead(path, true);
    if (!in) return "";
    io::ChecksumFilter sum(type);
    io::Buffer buffer(1024 * 1024), unused;
    for (size_t n; (n = in->read({buffer.data(), buffer.capacity()})) > 0;)
        sum.process({buffer.data(), n}, unused);
    sum.finish(unused);
    return sum.hex();
}

}  // namespace

void resetModeAndTime(const std::string& path, const repo::ManifestFile& f) {
    if (::chmod(path.c_str(), f.mode) != 0)
        raiseErrno(ErrorCode::FileWrite, "unable to set mode of", path);
    timespec times[2] = {{f.mtime, 0}, {f.mtime, 0}};
    if (::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0)
        raiseErrno(ErrorCode::FileWrite, "unable to set modification time of", path);
}

DeltaPlan prepareDelta(storage::Storage& fs, const DeltaInput& in) {
    std::unordered_map<std::string, size_t> wanted;
    for (size_t i = 0; i < in.fileDestinations.size(); i++) wanted[in.fileDestinations[i]] = i;

    // Walk every root; whatever the backup does not have goes.
    std::vector<std::tuple<size_t, std::string, uint64_t>>
        candidates;  // manifest index, path, local size
    size_t removed = 0;
    std::vector<std::string> stack(in.roots.begin(), in.roots.end());
    while (!stack.empty()) {
        std::string dir = stack.back();
        stack.pop_back();
        for (const auto& e : fs.list(dir)) {
            std::string path = dir + "/" + e.name;
            if (in.preserve.count(path)) continue;
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
                if (it != wanted.end() && e.type == storage::FileType::File) {
                    // Whatever its size, a file the backup has is worth comparing: a table that
                    // grew by 1 % differs from the backup in little more than 1 % of its pages
                    // (patched), and a block-stored file keeps its matching blocks.
                    candidates.emplace_back(it->second, path, e.size);
                    continue;
                }
                fs.remove(path);
                removed++;
            }
        }
    }

    // Same content? Not with another size; else by checksum, or by mtime with --force.
    DeltaPlan plan;
    std::mutex mutex;
    runParallel(in.processMax, candidates.size(), [&](size_t c) {
        const auto& [index, path, localSize] = candidates[c];
        const auto& f = in.manifest->files[index];
        bool same;
        if (f.blockSize != 0 && !in.force) {
            std::lock_guard lock(mutex);
            plan.blocks.insert(index);
            return;
        }
        if (localSize != f.size) {
            same = false;  // no need to hash it
        } else if (in.force) {
            auto info = fs.info(path);
            same = info && info->mtime == f.mtime && info->size == f.size;
        } else {
            same = fileChecksum(fs, path, f.checksum) == f.checksum;
        }
        std::lock_guard lock(mutex);
        if (!same) {
            (f.blockSize != 0 ? plan.blocks : plan.patch).insert(index);
            return;
        }
        resetModeAndTime(path, f);
        plan.keep.insert(index);
    });
    logInfo(
        "restore --delta: kept {} matching files, patching {} changed ones, comparing {} "
        "block-stored files "
        "block by block, removed {} entries the backup does not have",
        plan.keep.size(), plan.patch.size(), plan.blocks.size(), removed);
    return plan;
}

void patchInPlace(storage::Storage& repo, const repo::StoredLocation& stored,
                  const repo::RepoCodec& codec, storage::PosixStorage& dataDir,
                  const std::string& path, const repo::ManifestFile& f, const std::string& holder,
                  const std::string& piece, size_t bufferSize) {
    const repo::ExpectedFile expected{f.name, holder, f.size, f.checksum, {}, piece};
    repo::StoredFileReader reader(repo, stored, codec, piece);
    if (!reader.open()) repo::raiseMissing(expected, reader.where());
    storage::PatchFile local(dataDir, path);  // a shorter or longer copy is patched too

    constexpr size_t kPage = 8192;
    uint64_t offset = 0, pagesWritten = 0;
    std::vector<uint8_t> page(kPage);
    // Compare page by page; write back only what differs.
    auto patch = [&](std::span<const uint8_t> bytes) {
        for (size_t at = 0; at < bytes.size(); at += kPage) {
            size_t n = std::min(kPage, bytes.size() - at);
            size_t got = local.readAt(offset + at, {page.data(), n});
            if (got == n && std::memcmp(page.data(), bytes.data() + at, n) == 0) continue;
            local.writeAt(offset + at, bytes.subspan(at, n));
            pagesWritten++;
        }
        offset += bytes.size();
    };
    auto type =
        io::checksumTypeOf(f.checksum, fmt::format("file '{}' of backup {}", f.name, holder));
    repo::StoredRead read =
        reader.read(type, {f.checksum, f.size}, {.original = patch}, bufferSize);
    repo::raiseUnlessRestored(expected, reader.where(), type, read, "read");
    local.truncate(f.size);
    if (pagesWritten > 0 || local.sizeAtOpen() != f.size) local.sync();
    local.close();
    resetModeAndTime(path, f);
}

}  // namespace backrest::cmd
