// Where things live in a repository (format 1, documented in doc/repository-format.md):
//   backup/<stanza>/backup.info(.copy)
//   backup/<stanza>/<label>/backup.manifest(.copy)
//   backup/<stanza>/<label>/pg_data/...            (+ pg_tblspc/<oid>/...)
//   backup/<stanza>/<label>/bundle/<id>             small files, stored one after another
//   backup/<stanza>/backup.history/<YYYY>/<label>.manifest.zst   (repo/backup_history.h)
//   archive/<stanza>/archive.info(.copy)
//   archive/<stanza>/<archive-id>/<first 16 hex of segment>/<segment>-<sha256>.<ext>
//   archive/<stanza>/<archive-id>/<timeline>.history
#pragma once

#include <ctime>
#include <memory>
#include <string>
#include <string_view>

#include "crypto/repo_key.h"

namespace backrest::repo {

constexpr int kRepoFormat = 1;

struct Layout {
    std::string stanza;
    // The repository key metadata files (info, manifests, resume journals, block maps, timeline
    // history) are sealed with (crypto/sealed.h); nullptr for an unencrypted repository. Set
    // once the key is unwrapped (repo/repo_cipher.h); data files take it through RepoCodec.
    std::shared_ptr<const crypto::RepoKey> key{};

    std::string backupRoot() const { return "backup/" + stanza; }
    std::string backupInfo() const { return backupRoot() + "/backup.info"; }
    std::string backupDir(std::string_view label) const {
        return backupRoot() + "/" + std::string(label);
    }
    std::string manifest(std::string_view label) const {
        return backupDir(label) + "/backup.manifest";
    }
    // A file of a backup, by its manifest name ("pg_data/base/1/1259") and compress extension.
    std::string backupFile(std::string_view label, std::string_view name,
                           std::string_view ext) const {
        return backupDir(label) + "/" + std::string(name) + std::string(ext);
    }
    // Bundle `id` (from 1) of a backup: small files stored one after another (repo/bundle.h).
    std::string bundleDir(std::string_view label) const { return backupDir(label) + "/bundle"; }
    std::string bundleFile(std::string_view label, uint64_t id) const {
        return bundleDir(label) + "/" + std::to_string(id);
    }

    std::string archiveRoot() const { return "archive/" + stanza; }
    std::string archiveInfo() const { return archiveRoot() + "/archive.info"; }
    std::string archiveIdDir(std::string_view archiveId) const {
        return archiveRoot() + "/" + std::string(archiveId);
    }
    // The directory holding a segment (or its .backup history file): the first 16 hex digits.
    std::string walDir(std::string_view archiveId, std::string_view walName) const {
        return archiveIdDir(archiveId) + "/" + std::string(walName.substr(0, 16));
    }
};

// Backup labels sort by time: full "20261121-235959F", diff/incr "<full>_20261122-010000D|I".
std::string fullLabel(std::time_t when);
std::string dependentLabel(std::string_view fullLabel, std::time_t when, char typeLetter);
bool isBackupLabel(std::string_view name);
// The time part of a label ("20261121-235959"): the full's for a full, its own for a diff/incr.
std::string labelTime(std::string_view label);

}  // namespace backrest::repo
