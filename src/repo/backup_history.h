// The backup history (pgBackRest's backup.history): a copy of each completed backup's manifest,
// kept after the backup itself expires, for measuring backup and WAL growth over the years:
//   backup/<stanza>/backup.history/<year>/<label>.manifest.zst
// The manifest's checksummed text, zstd-compressed, sealed as its own piece (its path without
// ".zst") in an encrypted repository. One copy, written atomically: a history file is never the
// only record of anything a restore needs, so a lost one loses no backup.
// repo1-retention-history (days) expires them as pgBackRest does; unset, they are kept forever.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "repo/info.h"
#include "repo/layout.h"
#include "storage/storage.h"

namespace backrest::repo {

std::string historyRoot(const Layout& layout);
// The year directory is the label's (the full backup's date for a diff/incr, as pgBackRest's).
std::string historyManifestPath(const Layout& layout, const std::string& label);

// Copies backup/<stanza>/<label>/backup.manifest (or its .copy), checksum verified, into the
// history. Throws what reading the manifest or writing the copy throws.
void saveHistoryManifest(storage::Storage& repo, const Layout& layout, const std::string& label);

// The manifest text a history file holds: opened, decompressed and its checksum verified.
// FormatError/ChecksumError/CryptoError naming the file when it is damaged.
std::string loadHistoryManifest(storage::Storage& repo, const Layout& layout,
                                const std::string& label);

// History files of backups backup.info no longer lists whose label date (YYYYMMDD, UTC as
// labels are) is before the day `days` days before `now` (with 0, all of them); a diff/incr goes
// with its full, whose date its label starts with. Removed unless `dryRun`; returns their labels,
// oldest first. Files whose names are not "<label>.manifest.zst" are left alone.
std::vector<std::string> expireHistory(storage::Storage& repo, const Layout& layout,
                                       const BackupInfo& info, int days, int64_t now, bool dryRun);

}  // namespace backrest::repo
