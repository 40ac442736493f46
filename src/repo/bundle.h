// Small files stored together (repo1-bundle). A data directory holds hundreds of files of a few
// KiB (catalogs, free-space and visibility maps, pg_xact, configuration); stored one repository
// file each, a backup spends more on creating, fsyncing and renaming them than on their bytes.
// A bundle is one repository file, `<label>/bundle/<id>`, holding up to bundle-size original
// bytes of files of at most bundle-limit bytes each, one after another, each stored exactly as
// it would be on its own (one zstd stream, or plain bytes): the manifest records each file's
// bundle id and offset, and its repo-size is its length, so any one file is read (restored,
// verified) alone with a ranged read.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "repo/file_transfer.h"
#include "repo/layout.h"
#include "repo/manifest.h"

namespace backrest::repo {

struct BundleSettings {
    bool enabled = true;
    // Original bytes per bundle at most (a bundle is one job for one thread: 8 MiB is about
    // 20 ms of zstd-3, fine enough for the threads to finish together).
    uint64_t size = 8ull << 20;
    // Files larger than this are stored on their own (pgBackRest's repo-bundle-limit default).
    uint64_t limit = 2ull << 20;
};

// Groups the files at `candidates` (indices into `files`, in the order they should be stored)
// into bundles of at most settings.size original bytes, keeping that order. Every candidate must
// be at most settings.limit bytes.
std::vector<std::vector<size_t>> planBundles(const std::vector<ManifestFile>& files,
                                             const std::vector<size_t>& candidates,
                                             const BundleSettings& settings);

// Where the backup `holder` keeps `file`'s stored bytes (a file stored whole, in a bundle or not;
// block-stored files have a map of their own, repo/block_map.h).
StoredLocation storedLocation(const Layout& layout, const std::string& holder,
                              const ManifestFile& file, std::string_view compressExtension);

}  // namespace backrest::repo
