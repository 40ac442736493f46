// Bundle planning and the location of a file's stored bytes.
#include "repo/bundle.h"

#include "common/error.h"

namespace backrest::repo {

std::vector<std::vector<size_t>> planBundles(const std::vector<ManifestFile>& files,
                                             const std::vector<size_t>& candidates,
                                             const BundleSettings& settings) {
    std::vector<std::vector<size_t>> bundles;
    uint64_t filled = 0;
    for (size_t index : candidates) {
        const uint64_t size = files[index].size;
        if (size > settings.limit)
            raise(ErrorCode::Assert, "file '{}' ({} bytes) is larger than the bundle limit",
                  files[index].name, size);
        if (bundles.empty() || (filled + size > settings.size && !bundles.back().empty())) {
            bundles.emplace_back();
            filled = 0;
        }
        bundles.back().push_back(index);
        filled += size;
    }
    return bundles;
}

StoredLocation storedLocation(const Layout& layout, const std::string& holder,
                              const ManifestFile& file, std::string_view compressExtension) {
    if (file.bundleId == 0)
        return StoredLocation(layout.backupFile(holder, file.name, compressExtension));
    return StoredLocation(layout.bundleFile(holder, file.bundleId),
                          {file.bundleOffset, file.repoSize});
}

}  // namespace backrest::repo
