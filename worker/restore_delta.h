// Delta restore: makes existing target directories hold only what the backup has, keeping
// files that already match it, so only what differs is restored.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "repo/codec.h"
#include "repo/file_transfer.h"
#include "repo/manifest.h"
#include "storage/posix.h"
#include "storage/storage.h"

namespace backrest::cmd {

struct DeltaInput {
    const repo::Manifest* manifest = nullptr;
    std::vector<std::string> fileDestinations;  // absolute path of each manifest file
    std::set<std::string> directories;          // absolute paths the backup has
    std::map<std::string, std::string> links;   // absolute link path -> destination
    std::vector<std::string> roots;             // target locations to clean
    std::set<std::string> preserve;             // absolute paths left alone (the restore marker)
    bool force = false;                         // size + mtime match is enough (no checksum)
    size_t processMax = 1;
};

struct DeltaPlan {
    std::set<size_t> keep;   // already match: mode and mtime reset, nothing to restore
    std::set<size_t> patch;  // other content (any size): only the differing pages are rewritten
    // Block-stored files present in any size: compared with the backup block by block, and
    // only the differing blocks fetched (so they are not hashed whole here).
    std::set<size_t> blocks;
};

// Removes from the roots everything the backup does not have (files, links, directories) and
// sorts the manifest files already present into those to keep and those to patch.
DeltaPlan prepareDelta(storage::Storage& fs, const DeltaInput& input);

// Restores a file over an existing copy (of any size) by rewriting only the 8 KiB pages that
// differ from the backup's bytes (a relation file changed by 1 % is not rewritten and fsynced
// whole). The backup's bytes are verified against their size and checksum as in any restore; a
// mismatch is a ChecksumError naming the file and the backup. `piece`: what the stored bytes
// are sealed as (repo/piece.h).
void patchInPlace(storage::Storage& repo, const repo::StoredLocation& stored,
                  const repo::RepoCodec& codec, storage::PosixStorage& dataDir,
                  const std::string& path, const repo::ManifestFile& file,
                  const std::string& holder, const std::string& piece, size_t bufferSize);

// Sets a kept or patched file's mode and modification time to the backup's.
void resetModeAndTime(const std::string& path, const repo::ManifestFile& file);

}  // namespace backrest::cmd
