// Where a restore puts each manifest entry (worker/restore_map.h).
#include "worker/restore_map.h"

#include <filesystem>
#include <set>

#include "common/config.h"
#include "common/error.h"

namespace backrest::cmd {

namespace {

constexpr std::string_view kDataPrefix = "pg_data/";
constexpr std::string_view kTablespaceLinkPrefix = "pg_data/pg_tblspc/";

// Normalized, without a trailing '/', so that "/a/b/" and "/a/./b" compare equal to "/a/b".
std::string comparable(const std::string& path) {
    auto p = std::filesystem::path(path).lexically_normal().string();
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    return p;
}

// Two targets in one directory would write over each other (and a delta restore of one would
// remove the other's files); a tablespace inside another's directory likewise.
void refuseSharedDirectories(const TargetLocations& out, const std::string& label) {
    for (auto a = out.begin(); a != out.end(); ++a)
        for (auto b = std::next(a); b != out.end(); ++b) {
            auto pa = comparable(a->second), pb = comparable(b->second);
            bool nested = a->first != "pg_data" && b->first != "pg_data" &&
                          (pa.starts_with(pb + "/") || pb.starts_with(pa + "/"));
            if (pa == pb || nested)
                raise(ErrorCode::Option,
                      "restore: {} and {} of backup {} would both be restored {} '{}'; give each "
                      "its own "
                      "directory with --tablespace-map=<name>=/path",
                      a->first, b->first, label, pa == pb ? "into" : "in or under",
                      pa.size() < pb.size() ? pa : pb);
        }
}

}  // namespace

std::map<std::string, std::string> parseTablespaceMap(const std::vector<std::string>& entries) {
    std::map<std::string, std::string> remap;
    for (const auto& entry : entries) {
        auto eq = entry.find('=');
        if (eq == std::string::npos || eq == 0 || entry.size() == eq + 1 || entry[eq + 1] != '/')
            raise(ErrorCode::Option,
                  "invalid value '{}' for option 'tablespace-map' (expected <oid or "
                  "name>=/absolute/path)",
                  entry);
        remap[entry.substr(0, eq)] = entry.substr(eq + 1);
    }
    return remap;
}

TargetLocations mapTargets(const repo::Manifest& m, const std::string& dataPath,
                           const std::map<std::string, std::string>& remap,
                           const std::optional<std::string>& all) {
    TargetLocations out;
    std::set<std::string> used;
    for (const auto& t : m.targets) {
        if (t.name == "pg_data") {
            out[t.name] = dataPath;
            continue;
        }
        std::string location = t.path;
        std::string oid = std::to_string(t.tablespaceOid);
        if (all) location = *all + "/" + (t.tablespaceName.empty() ? oid : t.tablespaceName);
        if (auto byOid = remap.find(oid); byOid != remap.end())
            location = byOid->second, used.insert(oid);
        if (auto byName = remap.find(t.tablespaceName); byName != remap.end())
            location = byName->second, used.insert(t.tablespaceName);
        out[t.name] = location;
    }
    // A linked pg_wal is restored at its link's destination.
    for (const auto& l : m.links)
        if (l.name == "pg_data/pg_wal") out["pg_data/pg_wal"] = l.destination;
    for (const auto& [key, path] : remap)
        if (!used.count(key))
            raise(ErrorCode::Option,
                  "option 'tablespace-map': backup {} has no tablespace with oid or name '{}'",
                  m.label, key);
    refuseSharedDirectories(out, m.label);
    return out;
}

TargetLocations targetLocations(const Config& config, const repo::Manifest& m,
                                const std::string& dataPath) {
    auto remap = parseTablespaceMap(config.getMulti(opt::tablespaceMap));
    return mapTargets(m, dataPath, remap, config.find(opt::tablespaceMapAll));
}

std::string destinationOf(const TargetLocations& locations, const std::string& name) {
    std::string best;
    for (const auto& [target, location] : locations)
        if ((name == target || name.starts_with(target + "/")) && target.size() > best.size())
            best = target;
    if (best.empty()) raise(ErrorCode::Format, "manifest entry '{}' belongs to no target", name);
    return locations.at(best) + name.substr(best.size());
}

RestoredLink restoredLink(const repo::ManifestLink& link, const std::string& dataPath,
                          const TargetLocations& locations) {
    if (!link.name.starts_with(kDataPrefix))
        raise(ErrorCode::Format, "manifest link '{}' is not under pg_data: it cannot be restored",
              link.name);
    // "pg_data/pg_wal" -> "<pg1-path>/pg_wal"
    RestoredLink out{dataPath + link.name.substr(kDataPrefix.size() - 1), link.destination};
    if (link.name.starts_with(kTablespaceLinkPrefix)) {
        // "pg_data/pg_tblspc/16385" points to where target "pg_tblspc/16385" is restored.
        std::string target = link.name.substr(kDataPrefix.size());
        auto location = locations.find(target);
        if (location == locations.end())
            raise(ErrorCode::Format,
                  "manifest link '{}' is to tablespace {}, which is not a target of the backup",
                  link.name, target);
        out.destination = location->second;
    }
    return out;
}

}  // namespace backrest::cmd
