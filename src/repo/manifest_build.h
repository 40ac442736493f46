// Builds a backup manifest's targets, paths, links and file list from a live data directory
// (before any byte is copied), applying the base backup exclusions.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "repo/manifest.h"
#include "storage/storage.h"

namespace backrest::repo {

struct DataDirectory {
    storage::Storage* storage = nullptr;              // rooted at the data directory
    std::string path;                                 // absolute path of the data directory
    std::map<uint32_t, std::string> tablespaceNames;  // oid -> name, from pg_tablespace
    std::string tablespaceVersionDir;  // "PG_15_202209061": the part of a tablespace we own
};

void scanDataDirectory(const DataDirectory& dataDir, Manifest& manifest);

// Path to read a manifest file from, relative to the data directory ("pg_data/x" -> "x";
// "pg_tblspc/16385/..." goes through the tablespace link, as it is).
std::string dataDirectoryPath(const std::string& manifestName);

}  // namespace backrest::repo
