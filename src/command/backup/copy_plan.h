// Which files a backup copies and in what order (pgBackRest's backupManifest… steps before
// backupProcess): unchanged files reference the prior backup's bytes, the rest are split into
// files stored alone (largest first) and small files stored together in bundles.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "repo/bundle.h"
#include "repo/manifest.h"

namespace backrest::backup {

// The backup a diff or incr backup is taken against, indexed by file name.
class PriorBackup {
  public:
    explicit PriorBackup(repo::Manifest manifest);
    const repo::Manifest& manifest() const { return manifest_; }
    // The prior backup's record of `name`; nullptr when it had no such file.
    const repo::ManifestFile* find(const std::string& name) const;
    // The backup that holds the bytes of `file` (one of this backup's records).
    const std::string& holderOf(const repo::ManifestFile& file) const {
        return file.reference.empty() ? manifest_.label : file.reference;
    }

  private:
    repo::Manifest manifest_;
    std::map<std::string, size_t> index_;  // name -> index in manifest_.files
};

// Whether `file` is unchanged since `prior` took it (then its bytes are referenced, not copied).
bool reusable(const PriorBackup& prior, const repo::ManifestFile& file);

struct CopyPlan {
    std::vector<size_t> alone;                 // indices into the manifest's files, largest first
    std::vector<std::vector<size_t>> bundles;  // bundle id k + 1 holds bundles[k]
    size_t filesToCopy = 0;                    // in `alone` and `bundles`
    uint64_t referencedBytes = 0;              // original bytes of the referenced files
};

struct CopyPlanSettings {
    bool block = false;  // repo1-block: large files are stored as blocks, never bundled
    repo::BundleSettings bundle;
};

// Fills in the records of unchanged files from `prior` (when given) and plans the copy of the
// others. The manifest's files must be those of the scanned data directory.
CopyPlan planCopy(repo::Manifest& manifest, const PriorBackup* prior,
                  const CopyPlanSettings& settings);

}  // namespace backrest::backup
