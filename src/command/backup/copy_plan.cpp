// Planning a backup's copy: references to unchanged files, order, bundles; see copy_plan.h.
#include "command/backup/copy_plan.h"

#include <algorithm>

#include "repo/block_map.h"

namespace backrest::backup {

PriorBackup::PriorBackup(repo::Manifest manifest) : manifest_(std::move(manifest)) {
    for (size_t i = 0; i < manifest_.files.size(); i++) index_[manifest_.files[i].name] = i;
}

const repo::ManifestFile* PriorBackup::find(const std::string& name) const {
    auto it = index_.find(name);
    return it == index_.end() ? nullptr : &manifest_.files[it->second];
}

// A file is unchanged when its size and mtime equal the prior backup's record AND that mtime
// is older than the second in which the prior backup started: the copy was taken after the
// file's last change. A file written in the same second as (or after) the prior backup's start
// could have changed again without its whole-second mtime moving, so it is copied.
bool reusable(const PriorBackup& prior, const repo::ManifestFile& file) {
    const repo::ManifestFile* p = prior.find(file.name);
    return p && p->size == file.size && p->mtime == file.mtime &&
           p->mtime < prior.manifest().timestampStart;
}

namespace {

// The new record takes where and how the prior backup (or the one it references) holds the bytes.
void reference(repo::ManifestFile& file, const repo::ManifestFile& prior,
               const std::string& holder) {
    file.checksum = prior.checksum;
    file.repoSize = prior.repoSize;
    file.reference = holder;
    file.blockSize = prior.blockSize;  // its map is in the referenced backup
    file.referencedBlockBytes = prior.referencedBlockBytes;
    file.frameBytes = prior.frameBytes;
    file.frames = prior.frames;
    file.bundleId = prior.bundleId;  // in the referenced backup's bundle
    file.bundleOffset = prior.bundleOffset;
    file.pageChecked = prior.pageChecked;
    file.pageErrors = prior.pageErrors;
}

}  // namespace

CopyPlan planCopy(repo::Manifest& manifest, const PriorBackup* prior,
                  const CopyPlanSettings& settings) {
    CopyPlan plan;
    auto& files = manifest.files;
    std::vector<size_t> order;
    for (size_t i = 0; i < files.size(); i++) {
        if (!prior || !reusable(*prior, files[i])) {
            order.push_back(i);
            continue;
        }
        const repo::ManifestFile& from = *prior->find(files[i].name);
        reference(files[i], from, prior->holderOf(from));
        plan.referencedBytes += files[i].size;
    }
    plan.filesToCopy = order.size();
    // Largest files first so the threads finish together; then by name, so that two backups of
    // one data directory (backup --repo=all) start their common files in the same order.
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        if (files[a].size != files[b].size) return files[a].size > files[b].size;
        return files[a].name < files[b].name;
    });
    // Small files (the end of the order) go into bundles, stored after the files stored alone.
    std::vector<size_t> bundled;
    for (size_t index : order) {
        const auto& file = files[index];
        bool blockStored = settings.block && repo::blockSizeFor(file.size) != 0;
        (settings.bundle.enabled && !blockStored && file.size <= settings.bundle.limit ? bundled
                                                                                       : plan.alone)
            .push_back(index);
    }
    plan.bundles = repo::planBundles(files, bundled, settings.bundle);
    return plan;
}

}  // namespace backrest::backup
