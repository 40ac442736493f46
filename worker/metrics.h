// backrest's metrics in Prometheus text format: `backrest metrics` (the repositories, and the
// daemon when it answers) and the daemon's metrics-listen endpoint build the same series from
// the same pieces. Every value about the repository comes from info's JSON of the stanza
// (stanzaInfoJson), so a scrape and `backrest info` never disagree. README.md lists the names.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "protocol/messages.h"
#include "repo/layout.h"
#include "storage/storage.h"
#include "worker/metrics_text.h"

namespace backrest::cmd {

// The WAL segments the server has finished (pg_wal/archive_status/<segment>.ready or .done),
// each with the time its status file was written: the newest WAL the server wrote, against
// which the archive lag of each repository is measured.
struct ServerWal {
    std::vector<std::pair<std::string, int64_t>> finished;  // segment name, epoch seconds
};
// Nothing when the directory cannot be read (pg1-path not on this host, or not ours).
std::optional<ServerWal> readServerWal(const std::string& pgPath);

// Every family, declared once, in the order they are printed.
void declareMetrics(MetricsText& out);

// backrest_repo_up for one repository.
void addRepoUp(MetricsText& out, int repo, bool up);

// One stanza of one repository from its info JSON (with "archive-bytes" added by
// stanzaMetricsJson); wal, when given, is the stanza's own server's, for the archive lag.
void addStanzaMetrics(MetricsText& out, const nlohmann::json& stanza, int repo, int64_t now,
                      const ServerWal* wal);

// The daemon's own: up (status given), WAL stream state, pushes and failures per repository
// since it started.
void addDaemonMetrics(MetricsText& out, const std::string& stanza,
                      const std::optional<protocol::ArchiveStatusReply>& status);

// The hook for restore drills (`backrest drill`, built separately): emits backrest_drill_* from
// the stanza's info JSON once it carries a "drill" history, nothing before.
void addDrillMetrics(MetricsText& out, const nlohmann::json& stanza, int repo, int64_t now);

// info's JSON of a stanza plus "archive-bytes": the bytes the repository stores for its WAL.
nlohmann::json stanzaMetricsJson(storage::Storage& repo, const repo::Layout& layout);

}  // namespace backrest::cmd
