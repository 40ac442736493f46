// The info of one stanza as JSON, in pgBackRest 2.45's schema (doc/info-json.md) with backrest's
// additions: shared by `backrest info --output=json` and the daemon's info request
// (backrest_info() in SQL). The pieces are declared here so their unit tests see them.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/config.h"
#include "repo/info.h"
#include "repo/layout.h"
#include "repo/manifest.h"
#include "storage/storage.h"

namespace backrest::cmd {

// pgBackRest's stanza and repository status codes (command/info/info.c).
enum class InfoStatus {
    Ok = 0,
    MissingStanzaPath = 1,
    NoBackup = 2,
    MissingStanzaData = 3,
    BackupMissing = 6,  // --set names no backup of the stanza
};
const char* infoStatusMessage(InfoStatus status);

// What `info` was asked for: --set (one backup, with its databases, links and tablespaces) and
// --type (only backups of that type); lockPath, when set, to report a running backup.
// pgWal, when set (pg1-path is configured on this host): drop records still waiting there
// (repo/wal_dropped.h) are reported too.
struct InfoQuery {
    std::string set, type, lockPath;
    std::string pgWal{};
};

// {"code", "message"} plus, for the stanza's status, {"lock": {"backup": {"held"}}}.
nlohmann::json statusJson(InfoStatus status);
// One entry of "backup": from backup.info's summary alone (no manifest read).
nlohmann::json backupJson(const repo::BackupSummary& backup);
// --set's database-ref: the databases the backup recorded, as pgBackRest lists them.
nlohmann::json databaseRefJson(const repo::Manifest& manifest);
// What --set adds from the backup's manifest: database-ref, link, tablespace.
void addSetDetail(nlohmann::json& backup, const repo::Manifest& manifest);

nlohmann::json stanzaInfoJson(storage::Storage& repo, const repo::Layout& layout,
                              const InfoQuery& query = {});

// One repository's stanzas (config: its forRepo view; --stanza's, else every stanza it holds),
// every repo-key set to its index; jsonOf, when given, builds each stanza's JSON instead of
// stanzaInfoJson (the metrics add to it).
using StanzaJsonOf = std::function<nlohmann::json(storage::Storage&, const repo::Layout&)>;
nlohmann::json repoStanzasJson(const Config& config, const InfoQuery& query,
                               const StanzaJsonOf& jsonOf = {});

// The text layout of one stanza's JSON (pgBackRest's, with backrest's extra lines).
void printInfoText(const nlohmann::json& stanza);

// pgBackRest's shape for several repositories: one entry per stanza, its backup, archive, db and
// repo lists the union of the repositories' (each item's repo-key says whose), backups in label
// order; the stanza's status that of the repositories when they agree, else "different across
// repos" (code 4).
nlohmann::json mergeStanzas(const std::vector<nlohmann::json>& perRepo);

// Sets every "repo-key" (and each repo list entry's "key") under node to a repository's index.
void setRepoKey(nlohmann::json& node, int index);
// A repository info could not read (unreachable, unreadable, wrong key): each stanza the others
// answered for gets a repo entry for it with status 99 and the error (pgBackRest's "other"), and
// the stanza's status becomes 4, different across repos.
void addFailedRepo(nlohmann::json& stanzas, int index, const std::string& cipher,
                   const std::string& message);

}  // namespace backrest::cmd
