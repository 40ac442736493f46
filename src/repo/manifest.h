// The backup manifest: everything needed to restore one backup and to check every byte of it.
// A backup exists only once its manifest is written, which is the last step of a backup.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "crypto/repo_key.h"
#include "storage/storage.h"

namespace backrest::repo {

struct ManifestTarget {
    std::string name;            // "pg_data" or "pg_tblspc/<oid>"
    std::string path;            // absolute path on the database host
    uint32_t tablespaceOid = 0;  // 0 for pg_data
    std::string tablespaceName;  // empty for pg_data
};

struct ManifestPath {
    std::string name;  // "pg_data", "pg_data/base", "pg_tblspc/16385/PG_15_202209061"
    mode_t mode = 0700;
    std::string user, group;
};

struct ManifestLink {
    std::string name;         // "pg_data/pg_tblspc/16385" or "pg_data/pg_wal"
    std::string destination;  // what the link points to
};

// A database of the cluster, from pg_database at backup start (info --set lists them by name).
struct ManifestDatabase {
    std::string name;
    uint32_t oid = 0;
    bool operator==(const ManifestDatabase&) const = default;
};

struct ManifestFile {
    std::string name;       // "pg_data/base/1/1259"
    uint64_t size = 0;      // bytes copied (original bytes)
    uint64_t repoSize = 0;  // bytes stored in the repository
    int64_t mtime = 0;
    mode_t mode = 0600;
    std::string user, group;
    std::string checksum;   // of the original bytes: XXH3-128 or SHA-256 hex (io/file_checksum.h)
    std::string reference;  // label of the backup holding the bytes; empty = this backup
    // Block-level incremental (repo1-block): 0 when the file is stored whole; otherwise the
    // block size, and the file's bytes are described by the block map stored beside it in the
    // backup that holds it ("<holder label>/<name>.blockmap"), whose blocks may live in earlier
    // backups.
    uint32_t blockSize = 0;
    // A large file stored whole as independent zstd frames (io/zstd_frames.h): frame k holds
    // original bytes [k × frameBytes, (k + 1) × frameBytes) and `frames[k]` compressed bytes of
    // the repository file, so a restore decompresses the frames in parallel. Empty: one stream.
    uint64_t frameBytes = 0;
    std::vector<uint64_t> frames;
    // A small file stored inside a bundle (repo1-bundle, repo/bundle.h): `repoSize` bytes from
    // `bundleOffset` of bundle `bundleId` of the backup holding it. 0: a repository file of its
    // own.
    uint64_t bundleId = 0;
    uint64_t bundleOffset = 0;
    bool pageChecked = false;          // page checksums were validated while copying
    std::vector<uint32_t> pageErrors;  // pages (index in this file) whose checksum failed
    // Block-stored files: the repository bytes of earlier backups a restore of this file reads
    // besides `repoSize` (each holder's block map and the frames holding its blocks), so info's
    // repository.size is exact without reading a map. 0 for a file stored whole.
    uint64_t referencedBlockBytes = 0;
};

struct Manifest {
    int format = 1;
    // backup
    std::string label;
    std::string type = "full";  // full, diff, incr
    std::string prior;          // label of the prior backup (diff/incr)
    int64_t timestampStart = 0, timestampStop = 0;
    std::string lsnStart, lsnStop;
    std::string walStart, walStop;  // first and last segment the backup needs to be consistent
    uint32_t timeline = 1;
    // db
    std::string pgVersion;
    uint64_t systemId = 0;
    int dbId = 1;
    uint32_t walSegmentSize = 0;
    bool dataChecksums = false;
    // The cluster's databases at backup start, sorted by name. nullopt: not recorded (a backup
    // taken before backrest recorded them, or through the extension's backup worker).
    std::optional<std::vector<ManifestDatabase>> databases;
    // options
    std::string compressType = "zst";
    int compressLevel = 3;
    std::string backrestVersion;
    // pgBackRest's annotations (backup --annotation, the annotate command): key/value notes a
    // user keeps with the backup, shown by info. Saved only when not empty, so a manifest without
    // any is byte for byte what it was before annotations existed.
    std::map<std::string, std::string> annotations;

    std::vector<ManifestTarget> targets;
    std::vector<ManifestPath> paths;
    std::vector<ManifestLink> links;
    std::vector<ManifestFile> files;

    uint64_t totalSize() const;
    uint64_t totalRepoSize() const;  // bytes this backup stored itself (no references)
    uint64_t filesWithPageErrors() const;
};

// backup/<stanza>/<label>/backup.manifest (+ .copy); sealed for the piece `path` with `key`
// (Layout::key: nullptr for an unencrypted repository).
void saveManifest(storage::Storage& repo, const std::string& path, const Manifest& manifest,
                  const std::shared_ptr<const crypto::RepoKey>& key = nullptr);
// Throws BackupSetInvalidError when missing, FormatError/ChecksumError when damaged, CryptoError
// when sealed and it does not open.
Manifest loadManifest(storage::Storage& repo, const std::string& path,
                      const std::shared_ptr<const crypto::RepoKey>& key = nullptr);

std::string modeString(mode_t mode);  // "0640"
mode_t parseMode(const std::string& text);

}  // namespace backrest::repo
