// verify's work on one stanza: what it plans to read back (verify_plan.cpp), the reading
// (verify.cpp) and what it reports (verify_report.cpp). The class is the table of contents of
// the command; each of those files holds one of its steps.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/config.h"
#include "io/compress.h"
#include "repo/block_transfer.h"
#include "repo/info.h"
#include "repo/layout.h"
#include "repo/manifest.h"
#include "storage/storage.h"
#include "worker/backup_readers.h"
#include "worker/verify_read.h"

namespace backrest::cmd {

struct BackupReport {
    std::string label;
    uint64_t files = 0, bytes = 0;  // of the whole backup, wherever each file is stored
    std::vector<std::string> errors, warnings;
};

struct LoadedManifest {
    std::optional<repo::Manifest> manifest;
    io::CompressType type = io::CompressType::None;
    std::string error;  // why it could not be loaded
    std::vector<std::string> warnings;
    std::unordered_map<std::string, size_t> byName;
};

class StanzaVerify {
  public:
    explicit StanzaVerify(const Config& config);

    void run();

    size_t problems() const;
    const std::string& stanza() const { return layout_.stanza; }
    nlohmann::json toJson() const;
    void printText() const;

  private:
    // verify_plan.cpp: what to read back.
    void loadInfo();
    LoadedManifest& manifestOf(const std::string& label);
    std::shared_ptr<const repo::CompressByLabel> chainOf(const std::string& label);
    void planBackup(BackupReport& r);
    void checkManifestIdentity(BackupReport& r, const repo::Manifest& m);
    // Holders whose files cannot be checked, by label: not in backup.info (with a count), or
    // their manifest not loaded (with why).
    struct HolderProblems {
        std::map<std::string, size_t> missing;
        std::map<std::string, std::string> unloadable;
    };
    const repo::ManifestFile* storedEntry(BackupReport& r, const repo::ManifestFile& f,
                                          const std::string& holder, const LoadedManifest*& h,
                                          HolderProblems& problems);
    ReadCheck backupFileCheck(const std::string& holder, const repo::ManifestFile& f,
                              const repo::ManifestFile& stored, io::CompressType type);
    void scanArchive(const std::string& archiveId);
    void addArchived(const std::string& archiveId, const std::string& dir,
                     const storage::FileInfo& file);
    std::string archiveIdOf(int dbId) const;

    // verify.cpp: every planned read, in parallel.
    void readBackAll();

    // verify_report.cpp: what the reads found, and the WAL each backup needs.
    void reportFiles();
    void checkWalNeeded(BackupReport& r);
    void reportGaps(const std::string& archiveId);

    std::unique_ptr<storage::Storage> repo_;
    repo::Layout layout_;
    BackupReaders readers_;  // what verify reads stays until it is done (an expire keeps it)
    std::optional<std::string> set_;
    size_t bufferSize_, processMax_;
    repo::BackupInfo backupInfo_;
    repo::ArchiveInfo archiveInfo_;
    std::vector<std::string> archiveIds_;

    std::vector<std::string> errors_, warnings_;  // the stanza's own
    std::vector<BackupReport> backups_;
    std::map<std::string, LoadedManifest> manifests_;
    std::map<std::string, std::shared_ptr<const repo::CompressByLabel>> chains_;
    std::vector<ReadCheck> checks_;
    struct Use {
        size_t backup;  // index in backups_
        std::string name, holder;
    };
    std::map<std::string, size_t> fileChecks_;  // "<holder>/<name>" -> check
    std::vector<std::vector<Use>> uses_;  // per backup-file check: the backups that contain it
    size_t backupChecks_ = 0;
    uint64_t backupBytes_ = 0;
    std::map<std::string, std::map<std::string, size_t>>
        archived_;  // archive id -> WAL name -> check
    size_t walChecks_ = 0;
    std::vector<std::string> walErrors_, gaps_;
};

}  // namespace backrest::cmd
