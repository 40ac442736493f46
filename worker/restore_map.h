// Where a restore puts each manifest entry: pg_data at pg1-path, each tablespace at its original
// location or where --tablespace-map / --tablespace-map-all sends it, a linked pg_wal at its
// link's destination.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "repo/manifest.h"

namespace backrest {
class Config;
}

namespace backrest::cmd {

// Location by manifest target name: "pg_data", "pg_tblspc/16385", "pg_data/pg_wal" (linked).
using TargetLocations = std::map<std::string, std::string>;

// --tablespace-map values, "<oid or name>=/absolute/path", by oid or name. OptionError naming the
// value that is not of that form.
std::map<std::string, std::string> parseTablespaceMap(const std::vector<std::string>& entries);

// The location of every target of `m`. `remap` from parseTablespaceMap; `all` the
// --tablespace-map-all directory. OptionError when `remap` names a tablespace the backup does not
// have, or when two targets would share a directory (or one lie in another's).
TargetLocations mapTargets(const repo::Manifest& m, const std::string& dataPath,
                           const std::map<std::string, std::string>& remap,
                           const std::optional<std::string>& all);

// mapTargets with the remapping options of `config`.
TargetLocations targetLocations(const Config& config, const repo::Manifest& m,
                                const std::string& dataPath);

// Absolute destination of a manifest name ("pg_data/base/1", "pg_tblspc/16385/PG_15_..."):
// under the location of the longest target that contains it. FormatError when none does.
std::string destinationOf(const TargetLocations& locations, const std::string& name);

// A manifest link ("pg_data/pg_wal", "pg_data/pg_tblspc/16385") as restore makes it.
struct RestoredLink {
    std::string path;         // absolute path of the link, under pg1-path
    std::string destination;  // a tablespace's restored location; else the link's own destination
};

// FormatError naming the link when its name is not under pg_data, or names a tablespace that is
// not a target of the backup.
RestoredLink restoredLink(const repo::ManifestLink& link, const std::string& dataPath,
                          const TargetLocations& locations);

}  // namespace backrest::cmd
