// info: what a stanza holds — its cluster identity, the WAL range archived, and every backup
// with its times, LSNs, WAL range and sizes — as text for people or JSON for scripts.
#include "repo/info.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "pg/wal.h"
#include "repo/layout.h"
#include "repo/repo_cipher.h"
#include "worker/archive_timelines.h"
#include "worker/commands.h"
#include "worker/context.h"
#include "worker/info.h"

namespace backrest::cmd {

namespace {

using nlohmann::json;

// First and last WAL segment archived under one archive id, or empty.
std::pair<std::string, std::string> walRangeOf(storage::Storage& repo, const repo::Layout& layout,
                                               const std::string& archiveId) {
    std::vector<std::string> dirs;
    for (const auto& e : repo.list(layout.archiveIdDir(archiveId)))
        if (e.type == storage::FileType::Path && e.name.size() == 16) dirs.push_back(e.name);
    std::sort(dirs.begin(), dirs.end());
    auto segmentsIn = [&](const std::string& dir) {
        std::vector<std::string> names;
        for (const auto& e : repo.list(layout.archiveIdDir(archiveId) + "/" + dir))
            if (e.name.size() > 24 && pg::isWalSegmentName(e.name.substr(0, 24)) &&
                e.name[24] == '-' && !e.name.ends_with(".tmp"))
                names.push_back(e.name.substr(0, 24));
        std::sort(names.begin(), names.end());
        return names;
    };
    std::string min, max;
    for (auto it = dirs.begin(); it != dirs.end() && min.empty(); ++it)
        if (auto n = segmentsIn(*it); !n.empty()) min = n.front();
    for (auto it = dirs.rbegin(); it != dirs.rend() && max.empty(); ++it)
        if (auto n = segmentsIn(*it); !n.empty()) max = n.back();
    return {min, max};
}

}  // namespace

json stanzaInfoJson(storage::Storage& repo, const repo::Layout& layout) {
    const std::string& stanza = layout.stanza;
    json out = {{"name", stanza}};
    // The envelope that counts (its key opened already: layout.key).
    out["cipher"] = "none";
    if (layout.key) {
        auto scan = repo::scanRepoCipher(repo, layout);
        if (scan.counted) {
            out["cipher"] = scan.counted->envelope.cipherType;
            out["key-id"] = scan.counted->envelope.keyId;
            out["key-generation"] = scan.counted->envelope.generation;
        }
    }
    auto backupInfo = repo::loadBackupInfo(repo, layout);
    auto archiveInfo = repo::loadArchiveInfo(repo, layout);
    if (!backupInfo || !archiveInfo) {
        out["status"] = {{"code", 1}, {"message", "missing stanza data (run stanza-create)"}};
        out["db"] = json::array();
        out["archive"] = json::array();
        out["backup"] = json::array();
        return out;
    }
    out["status"] = backupInfo->backups.empty() ? json{{"code", 2}, {"message", "no valid backups"}}
                                                : json{{"code", 0}, {"message", "ok"}};
    out["db"] = json::array();
    for (const auto& db : backupInfo->history)
        out["db"].push_back({{"id", db.id}, {"system-id", db.systemId}, {"version", db.version}});
    out["archive"] = json::array();
    for (const auto& db : archiveInfo->history) {
        std::string id = repo::ArchiveInfo::archiveId(db);
        auto [min, max] = walRangeOf(repo, layout, id);
        json branches = json::array();
        for (const auto& b : archiveSideBranches(repo, layout, *backupInfo, id))
            branches.push_back(sideBranchJson(b));
        out["archive"].push_back({{"id", id},
                                  {"database", {{"id", db.id}}},
                                  {"min", min.empty() ? json(nullptr) : json(min)},
                                  {"max", max.empty() ? json(nullptr) : json(max)},
                                  {"side-branches", branches}});
    }
    out["backup"] = json::array();
    for (const auto& b : backupInfo->backups)
        out["backup"].push_back(
            {{"label", b.label},
             {"type", b.type},
             {"prior", b.prior.empty() ? json(nullptr) : json(b.prior)},
             {"timestamp", {{"start", b.timestampStart}, {"stop", b.timestampStop}}},
             {"lsn", {{"start", b.lsnStart}, {"stop", b.lsnStop}}},
             {"archive", {{"start", b.walStart}, {"stop", b.walStop}}},
             {"timeline", b.timeline},
             {"database", {{"id", b.dbId}}},
             {"info",
              {{"size", b.size},
               {"file-count", b.fileCount},
               {"page-error-files", b.pageErrorFiles},
               {"repository", {{"size", b.repoSize}}}}}});
    return out;
}

namespace {

void printText(const json& stanza) {
    fmt::print("stanza: {}\n    status: {}\n", stanza["name"].get<std::string>(),
               stanza["status"]["message"].get<std::string>());
    if (stanza.contains("key-generation"))
        fmt::print("    cipher: {} (key {}, generation {})\n", stanza["cipher"].get<std::string>(),
                   stanza["key-id"].get<std::string>(), stanza["key-generation"].get<uint64_t>());
    else
        fmt::print("    cipher: {}\n", stanza.value("cipher", "none"));
    for (const auto& a : stanza["archive"]) {
        std::string min = a["min"].is_null() ? "none" : a["min"].get<std::string>();
        std::string max = a["max"].is_null() ? "none" : a["max"].get<std::string>();
        fmt::print("    wal archive min/max ({}): {}/{}\n", a["id"].get<std::string>(), min, max);
        for (const auto& b : a.value("side-branches", json::array()))
            fmt::print(
                "    warning: {}\n",
                sideBranchWarning(
                    {b["timeline"].get<uint32_t>(), b["parent"].get<uint32_t>(),
                     pg::parseLsn(b["branch-lsn"].get<std::string>()),
                     b["parent-archived-to"].get<std::string>(),
                     b["archived-to"].is_null() ? "" : b["archived-to"].get<std::string>()}));
    }
    for (const auto& b : stanza["backup"]) {
        fmt::print("\n    {} backup: {}\n", b["type"].get<std::string>(),
                   b["label"].get<std::string>());
        fmt::print("        timestamp start/stop: {} / {}\n",
                   formatTimestamp(b["timestamp"]["start"]),
                   formatTimestamp(b["timestamp"]["stop"]));
        fmt::print("        wal start/stop: {} / {}\n", b["archive"]["start"].get<std::string>(),
                   b["archive"]["stop"].get<std::string>());
        fmt::print("        lsn start/stop: {} / {}\n", b["lsn"]["start"].get<std::string>(),
                   b["lsn"]["stop"].get<std::string>());
        fmt::print("        database size: {}, files: {}, repository size: {}\n",
                   formatBytes(b["info"]["size"]), b["info"]["file-count"].get<uint64_t>(),
                   formatBytes(b["info"]["repository"]["size"]));
        if (uint64_t bad = b["info"].value("page-error-files", uint64_t{0}); bad > 0)
            fmt::print("        page checksum errors: {} file{} (see the backup's manifest)\n", bad,
                       bad > 1 ? "s" : "");
    }
}

}  // namespace

int info(const Config& config) {
    auto repo = openRepo(config);
    std::vector<std::string> stanzas;
    if (auto stanza = config.find(opt::stanza)) {
        stanzaLayout(config);  // validates the name
        stanzas.push_back(*stanza);
    } else {
        for (const auto& e : repo->list("backup"))
            if (e.type == storage::FileType::Path) stanzas.push_back(e.name);
        std::sort(stanzas.begin(), stanzas.end());
    }
    json all = json::array();
    for (const auto& s : stanzas) {
        // With --stanza, openRepo opened its key; each listed stanza is opened here.
        repo::Layout layout = config.find(opt::stanza)
                                  ? stanzaLayout(config)
                                  : repo::Layout{s, openStanzaKey(config, *repo, s)};
        all.push_back(stanzaInfoJson(*repo, layout));
    }
    if (config.getString(opt::output) == "json") {
        fmt::print("{}\n", all.dump());
        return 0;
    }
    if (stanzas.empty()) fmt::print("No stanzas exist in the repository.\n");
    for (size_t i = 0; i < all.size(); i++) {
        if (i) fmt::print("\n");
        printText(all[i]);
    }
    return 0;
}

}  // namespace backrest::cmd
