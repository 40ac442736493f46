// Delta restore: makes existing target directories hold only what the backup has, keeping
// files that already match it, so only what differs is restored.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "repo/manifest.h"
#include "storage/storage.h"

namespace backrest::cmd {

struct DeltaInput {
    const repo::Manifest* manifest = nullptr;
    std::vector<std::string> fileDestinations;          // absolute path of each manifest file
    std::set<std::string> directories;                   // absolute paths the backup has
    std::map<std::string, std::string> links;            // absolute link path -> destination
    std::vector<std::string> roots;                      // target locations to clean
    bool force = false;   // size + mtime match is enough (no checksum)
    size_t processMax = 1;
};

// Removes from the roots everything the backup does not have (files, links, directories) and
// returns the indexes of manifest files that already match and need no restore (their mode
// and mtime are reset to the backup's).
std::set<size_t> prepareDelta(storage::Storage& fs, const DeltaInput& input);

}  // namespace backrest::cmd
