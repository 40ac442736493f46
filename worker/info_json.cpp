// The JSON of `info`: pgBackRest 2.45's keys with pgBackRest's meanings, so monitoring written for
// `pgbackrest info --output=json` (check_pgbackrest, pgbackrest_exporter) reads backrest's, and
// backrest's own facts (timeline, file-count, page-error-files, side branches, key generation)
// as extra keys. doc/info-json.md describes every field.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/log.h"
#include "common/version.h"
#include "pg/wal.h"
#include "repo/drill_record.h"
#include "repo/layout.h"
#include "repo/lock_probe.h"
#include "repo/repo_cipher.h"
#include "repo/wal_dropped.h"
#include "worker/archive_timelines.h"
#include "worker/info.h"

namespace backrest::cmd {

namespace {

using nlohmann::json;

// backrest has one repository; pgBackRest numbers them from 1 (repo1-*).
constexpr int kRepoKey = 1;

json nullIfEmpty(const std::string& s) {
    return s.empty() ? json(nullptr) : json(s);
}

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

// pgBackRest says "missing stanza path" when neither directory of the stanza exists; on an
// object store a directory exists when something is stored under it.
bool stanzaPathExists(storage::Storage& repo, const repo::Layout& layout) {
    return !repo.list(layout.backupRoot()).empty() || !repo.list(layout.archiveRoot()).empty();
}

// The archive id a backup's WAL is filed under: its database's in archive.info.
std::string backupArchiveId(const repo::ArchiveInfo& archiveInfo, const repo::BackupSummary& b) {
    for (const auto& db : archiveInfo.history)
        if (db.id == b.dbId) return repo::ArchiveInfo::archiveId(db);
    return "";
}

// archive-push-queue-max's gap in one archive id (null when nothing was dropped): how many
// segments, the first and last, and the first backup restores from which recover whole.
json droppedJson(const std::vector<repo::DroppedSegment>& dropped, const std::string& archiveId,
                 const repo::BackupInfo& backupInfo, const repo::ArchiveInfo& archiveInfo) {
    auto range = repo::droppedRange(dropped, archiveId);
    if (!range) return nullptr;
    std::vector<std::string> ids;
    for (const auto& b : backupInfo.backups) ids.push_back(backupArchiveId(archiveInfo, b));
    return {{"count", range->count},
            {"first", range->first},
            {"last", range->last},
            {"backup-after",
             nullIfEmpty(repo::firstWholeBackup(dropped, archiveId, backupInfo.backups, ids))}};
}

json archiveJson(storage::Storage& repo, const repo::Layout& layout,
                 const repo::BackupInfo& backupInfo, const repo::ArchiveInfo& archiveInfo,
                 const std::vector<repo::DroppedSegment>& dropped) {
    json out = json::array();
    for (const auto& db : archiveInfo.history) {
        std::string id = repo::ArchiveInfo::archiveId(db);
        auto [min, max] = walRangeOf(repo, layout, id);
        json branches = json::array();
        for (const auto& b : archiveSideBranches(repo, layout, backupInfo, id))
            branches.push_back(sideBranchJson(b));
        out.push_back({{"id", id},
                       {"database", {{"id", db.id}, {"repo-key", kRepoKey}}},
                       {"min", nullIfEmpty(min)},
                       {"max", nullIfEmpty(max)},
                       {"side-branches", branches},
                       {"dropped", droppedJson(dropped, id, backupInfo, archiveInfo)}});
    }
    return out;
}

// pgBackRest's reference list is the chain of prior backups, oldest first (an incr of a diff
// lists the full and the diff), whether or not a file of each is reused.
std::vector<std::string> priorChain(const repo::BackupInfo& info, const repo::BackupSummary& b) {
    std::vector<std::string> chain;
    for (const auto* at = info.find(b.prior); at && chain.size() < info.backups.size();
         at = info.find(at->prior))
        chain.insert(chain.begin(), at->label);
    return chain;
}

bool wanted(const repo::BackupSummary& b, const InfoQuery& query) {
    return (query.set.empty() || b.label == query.set) &&
           (query.type.empty() || b.type == query.type);
}

}  // namespace

const char* infoStatusMessage(InfoStatus status) {
    switch (status) {
        case InfoStatus::Ok:
            return "ok";
        case InfoStatus::MissingStanzaPath:
            return "missing stanza path";
        case InfoStatus::NoBackup:
            return "no valid backups";
        case InfoStatus::MissingStanzaData:
            return "missing stanza data";
        case InfoStatus::BackupMissing:
            return "requested backup not found";
    }
    return "other";
}

json statusJson(InfoStatus status) {
    return {{"code", static_cast<int>(status)}, {"message", infoStatusMessage(status)}};
}

json backupJson(const repo::BackupSummary& b) {
    json out = {{"label", b.label},
                {"type", b.type},
                {"prior", nullIfEmpty(b.prior)},
                {"reference", b.references.empty() ? json(nullptr) : json(b.references)},
                {"timestamp", {{"start", b.timestampStart}, {"stop", b.timestampStop}}},
                {"lsn", {{"start", b.lsnStart}, {"stop", b.lsnStop}}},
                {"archive", {{"start", nullIfEmpty(b.walStart)}, {"stop", nullIfEmpty(b.walStop)}}},
                {"backrest", {{"format", repo::kRepoFormat}, {"version", b.backrestVersion}}},
                {"database", {{"id", b.dbId}, {"repo-key", kRepoKey}}},
                // pgBackRest's backup-error: a file of the backup had a page checksum error.
                {"error", b.pageErrorFiles > 0},
                {"info",
                 {{"size", b.size},
                  {"delta", b.delta},
                  {"repository", {{"size", b.repoSetSize}, {"delta", b.repoSize}}},
                  {"file-count", b.fileCount},
                  {"page-error-files", b.pageErrorFiles}}},
                {"timeline", b.timeline}};
    // pgBackRest omits the key when a backup has none.
    if (!b.annotations.empty()) out["annotation"] = b.annotations;
    return out;
}

json databaseRefJson(const repo::Manifest& m) {
    json databases = json::array();
    if (m.databases) {
        // As pgBackRest: by name, without the template databases (postgres is listed).
        for (const auto& d : *m.databases)
            if (d.name != "template0" && d.name != "template1")
                databases.push_back({{"name", d.name}, {"oid", d.oid}});
        return databases;
    }
    // A backup taken before backrest recorded names: each database directory of base/ by oid,
    // with an empty name; the templates cannot be told apart and are listed too.
    constexpr std::string_view kBase = "pg_data/base/";
    for (const auto& p : m.paths)
        if (p.name.starts_with(kBase) && p.name.find('/', kBase.size()) == std::string::npos &&
            std::all_of(p.name.begin() + kBase.size(), p.name.end(), ::isdigit))
            databases.push_back({{"name", ""}, {"oid", std::stoull(p.name.substr(kBase.size()))}});
    std::sort(databases.begin(), databases.end(),
              [](const json& a, const json& b) { return a["oid"] < b["oid"]; });
    return databases;
}

void addSetDetail(json& backup, const repo::Manifest& m) {
    // An array even when empty, as pgBackRest's.
    backup["database-ref"] = databaseRefJson(m);
    json links = json::array();
    for (const auto& l : m.links)
        if (!l.name.starts_with("pg_data/pg_tblspc/"))
            links.push_back({{"name", l.name}, {"destination", l.destination}});
    backup["link"] = links.empty() ? json(nullptr) : links;
    json tablespaces = json::array();
    for (const auto& t : m.targets)
        if (t.tablespaceOid != 0)
            tablespaces.push_back(
                {{"name", t.tablespaceName}, {"oid", t.tablespaceOid}, {"destination", t.path}});
    backup["tablespace"] = tablespaces.empty() ? json(nullptr) : tablespaces;
}

json stanzaInfoJson(storage::Storage& repo, const repo::Layout& layout, const InfoQuery& query) {
    json out = {{"name", layout.stanza}, {"cipher", "none"}};
    if (layout.key) {  // the envelope that counts (its key opened already: layout.key)
        auto scan = repo::scanRepoCipher(repo, layout);
        if (scan.counted) {
            out["cipher"] = scan.counted->envelope.cipherType;
            out["key-id"] = scan.counted->envelope.keyId;
            out["key-generation"] = scan.counted->envelope.generation;
        }
    }
    out["db"] = json::array();
    out["archive"] = json::array();
    out["backup"] = json::array();
    auto backupInfo = repo::loadBackupInfo(repo, layout);
    auto archiveInfo = repo::loadArchiveInfo(repo, layout);
    InfoStatus status = InfoStatus::Ok;
    if (!backupInfo || !archiveInfo) {
        status = stanzaPathExists(repo, layout) ? InfoStatus::MissingStanzaData
                                                : InfoStatus::MissingStanzaPath;
    } else {
        for (const auto& db : backupInfo->history)
            out["db"].push_back({{"id", db.id},
                                 {"repo-key", kRepoKey},
                                 {"system-id", db.systemId},
                                 {"version", db.version}});
        auto dropped = repo::listDropped(repo, layout);
        if (!query.pgWal.empty())
            dropped = repo::mergeDropped(
                std::move(dropped),
                repo::listDroppedPending(query.pgWal, archiveInfo->currentArchiveId()));
        dropped = repo::withoutArchived(repo, layout, std::move(dropped));
        out["archive"] = archiveJson(repo, layout, *backupInfo, *archiveInfo, dropped);
        for (const auto& b : backupInfo->backups) {
            if (!wanted(b, query)) continue;
            repo::BackupSummary shown = b;
            if (!b.prior.empty()) shown.references = priorChain(*backupInfo, b);
            json entry = backupJson(shown);
            auto gap =
                repo::backupGap(dropped, backupArchiveId(*archiveInfo, b), b.walStart, b.walStop);
            entry["wal-dropped"] =
                gap ? json{{"first", gap->firstDropped}, {"inside-backup", gap->insideBackup}}
                    : json(nullptr);
            if (!query.set.empty())
                addSetDetail(entry, repo::loadManifest(repo, layout.manifest(b.label), layout.key));
            out["backup"].push_back(std::move(entry));
        }
        if (backupInfo->backups.empty())
            status = InfoStatus::NoBackup;
        else if (!query.set.empty() && out["backup"].empty())
            status = InfoStatus::BackupMissing;
    }
    // The drill history (repo/drill_record.h), oldest first; one unreadable record costs
    // info nothing but a warning.
    out["drill"] = json::array();
    try {
        for (const auto& d : repo::loadDrills(repo, layout))
            out["drill"].push_back(repo::drillJson(d));
    } catch (const Error& e) {
        logWarn("info: the drill history of stanza {} is unreadable: {}", layout.stanza, e.what());
    }
    // Each backup names its newest drill (backrest_info() shows it).
    for (auto& b : out["backup"]) {
        b["drill"] = nullptr;
        for (const auto& d : out["drill"])
            if (d["backup"]["label"] == b["label"])
                b["drill"] = {
                    {"id", d["id"]}, {"result", d["result"]}, {"stop", d["timestamp"]["stop"]}};
    }
    out["repo"] = json::array(
        {{{"key", kRepoKey}, {"cipher", out["cipher"]}, {"status", statusJson(status)}}});
    out["status"] = statusJson(status);
    bool held =
        !query.lockPath.empty() && repo::stanzaLockHeld(query.lockPath, layout.stanza, "backup");
    out["status"]["lock"] = {{"backup", {{"held", held}}}};
    return out;
}

}  // namespace backrest::cmd
