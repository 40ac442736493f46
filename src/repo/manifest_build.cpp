// Walks the data directory and its tablespaces into a manifest.
#include "repo/manifest_build.h"

#include <algorithm>
#include <set>

#include "common/error.h"
#include "common/log.h"
#include "pg/backup_exclusions.h"

namespace backrest::repo {

namespace {

using storage::FileInfo;
using storage::FileType;

class Scanner {
  public:
    Scanner(const DataDirectory& dataDir, Manifest& manifest) : dir_(dataDir), m_(manifest) {}

    void run() {
        auto root = dir_.storage->info(dir_.path, /*followLink=*/true);
        if (!root || root->type != FileType::Path)
            raise(ErrorCode::FileMissing, "data directory '{}' does not exist", dir_.path);
        m_.targets.push_back({"pg_data", dir_.path, 0, ""});
        addPath("pg_data", *root);
        walk("", "pg_data");
    }

  private:
    // `rel` is relative to the data directory ("" for its root); `name` is the manifest name.
    void walk(const std::string& rel, const std::string& name) {
        auto entries = dir_.storage->list(rel.empty() ? std::string(".") : rel, false);
        std::sort(entries.begin(), entries.end(), [](auto& a, auto& b) { return a.name < b.name; });
        std::set<std::string> unlogged = unloggedRelations(entries);
        for (const auto& e : entries) {
            std::string childRel = rel.empty() ? e.name : rel + "/" + e.name;
            std::string childName = name + "/" + e.name;
            if (pg::isExcludedFile(childRel, e.name)) continue;
            if (isUnloggedFork(e.name, unlogged)) continue;

            if (rel == "pg_tblspc" && e.type == FileType::Link) {
                addTablespace(e, childRel);
                continue;
            }
            FileInfo entry = e;
            if (e.type == FileType::Link) {
                if (childRel == "pg_wal") {
                    auto dest = dir_.storage->info(childRel, true);
                    m_.links.push_back({childName, e.linkDestination});
                    if (dest) addPath(childName, *dest);
                    continue;
                }
                // Other links are followed: their content is backed up as if it lived here.
                auto target = dir_.storage->info(childRel, true);
                if (!target) {
                    logWarn("backup: skipping dangling link '{}' -> '{}'", childRel,
                            e.linkDestination);
                    continue;
                }
                entry = *target;
                entry.name = e.name;
            }
            if (entry.type == FileType::Path) {
                addPath(childName, entry);
                if (!pg::isContentExcludedDir(childRel)) walk(childRel, childName);
            } else if (entry.type == FileType::File) {
                addFile(childName, entry);
            } else {
                logWarn("backup: skipping special file '{}' (not a file, directory or link)",
                        childRel);
            }
        }
    }

    void addTablespace(const FileInfo& link, const std::string& rel) {
        uint32_t oid = 0;
        try {
            oid = static_cast<uint32_t>(std::stoul(link.name));
        } catch (const std::exception&) {
            logWarn("backup: skipping '{}': not a tablespace link", rel);
            return;
        }
        std::string name = "pg_tblspc/" + link.name;
        auto it = dir_.tablespaceNames.find(oid);
        m_.targets.push_back(
            {name, link.linkDestination, oid, it == dir_.tablespaceNames.end() ? "" : it->second});
        m_.links.push_back({"pg_data/" + rel, link.linkDestination});
        auto location = dir_.storage->info(rel, true);
        if (!location || location->type != FileType::Path)
            raise(ErrorCode::FileMissing, "tablespace {} location '{}' does not exist", oid,
                  link.linkDestination);
        addPath(name, *location);
        // Only our major version's directory: another version's (pg_upgrade leftovers) is not ours.
        std::string versionRel = rel + "/" + dir_.tablespaceVersionDir;
        auto version = dir_.storage->info(versionRel, true);
        if (!version) return;
        addPath(name + "/" + dir_.tablespaceVersionDir, *version);
        walk(versionRel, name + "/" + dir_.tablespaceVersionDir);
    }

    static std::set<std::string> unloggedRelations(const std::vector<FileInfo>& entries) {
        std::set<std::string> out;
        for (const auto& e : entries)
            if (e.name.ends_with("_init")) {
                auto node = pg::relfilenodeOf(e.name);
                if (!node.empty()) out.emplace(node);
            }
        return out;
    }

    // Unlogged relations are reset from their init fork at recovery: only that fork is kept.
    static bool isUnloggedFork(const std::string& name, const std::set<std::string>& unlogged) {
        if (unlogged.empty() || name.find("_init") != std::string::npos) return false;
        auto node = pg::relfilenodeOf(name);
        return !node.empty() && unlogged.count(std::string(node)) > 0;
    }

    void addPath(const std::string& name, const FileInfo& info) {
        m_.paths.push_back({name, info.mode, info.user, info.group});
    }

    void addFile(const std::string& name, const FileInfo& info) {
        ManifestFile f;
        f.name = name;
        f.size = info.size;
        f.mtime = info.mtime;
        f.mode = info.mode;
        f.user = info.user;
        f.group = info.group;
        m_.files.push_back(std::move(f));
    }

    const DataDirectory& dir_;
    Manifest& m_;
};

}  // namespace

void scanDataDirectory(const DataDirectory& dataDir, Manifest& manifest) {
    Scanner(dataDir, manifest).run();
}

std::string dataDirectoryPath(const std::string& manifestName) {
    if (manifestName.starts_with("pg_data/")) return manifestName.substr(8);
    return manifestName;  // pg_tblspc/<oid>/... resolves through the link in the data directory
}

}  // namespace backrest::repo
