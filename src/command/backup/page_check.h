// Page checksums validated while a relation file is copied (when the cluster has them), and the
// second look that tells a torn read from a damaged page.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "io/page_checksum_filter.h"
#include "repo/manifest.h"

namespace backrest::backup {

struct PageCheck {
    uint32_t segment = 0;
    std::optional<io::PageChecksumFilter> filter;
    io::Filter* observer() { return filter ? &*filter : nullptr; }
};

// The check for `file` (a manifest name): none unless the cluster has data checksums and the
// file is a relation file. Pages changed since `startLsn` are not checked: WAL replay rewrites
// them.
PageCheck pageCheckFor(const repo::ManifestFile& file, bool dataChecksums, uint64_t startLsn);

// A page can fail its checksum because PostgreSQL was writing it while we read it (a torn
// read). Each failed page is read once more on its own: only a page that still fails, and
// whose LSN is older than the backup start, is a real error. Returns those pages.
std::vector<uint32_t> recheckPages(const std::string& path, const std::vector<uint32_t>& pages,
                                   uint32_t segment, uint64_t startLsn);

}  // namespace backrest::backup
