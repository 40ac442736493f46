// The series of backrest's metrics (worker/metrics.h), and `backrest metrics`.
#include "worker/metrics.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>

#include "common/error.h"
#include "common/log.h"
#include "pg/wal.h"
#include "protocol/connection.h"
#include "worker/commands.h"
#include "worker/context.h"
#include "worker/info.h"
#include "worker/multi_repo.h"

namespace backrest::cmd {

namespace {

using nlohmann::json;
using Type = MetricsText::Type;

// The daemon answers a metrics request within this, or is reported down.
constexpr int kDaemonTimeoutMs = 5000;

// A family's table: name, type, help (with its unit). One place, printed in this order.
struct FamilyDef {
    const char* name;
    Type type;
    const char* help;
};
constexpr FamilyDef kFamilies[] = {
    {"backrest_repo_up", Type::Gauge, "1 when the repository could be read, 0 when not."},
    {"backrest_stanza_status", Type::Gauge,
     "info's status code of the stanza in the repository (0 ok, 1 missing stanza path, 2 no "
     "valid backups, 3 missing stanza data)."},
    {"backrest_backup_count", Type::Gauge, "Backups of the type in the repository."},
    {"backrest_backup_last_timestamp_seconds", Type::Gauge,
     "When the newest backup of the type stopped, seconds since the epoch."},
    {"backrest_backup_last_age_seconds", Type::Gauge,
     "Seconds from the stop of the newest backup of the type to the scrape."},
    {"backrest_backup_last_duration_seconds", Type::Gauge,
     "Seconds the newest backup of the type took, start to stop."},
    {"backrest_backup_last_size_bytes", Type::Gauge,
     "Database bytes of the newest backup of the type (info: size)."},
    {"backrest_backup_last_delta_bytes", Type::Gauge,
     "Database bytes the newest backup of the type copied (info: delta)."},
    {"backrest_backup_last_repo_size_bytes", Type::Gauge,
     "Repository bytes of the newest backup of the type with the backups it references (info: "
     "repository size)."},
    {"backrest_backup_last_repo_delta_bytes", Type::Gauge,
     "Repository bytes the newest backup of the type stored itself (info: repository delta)."},
    {"backrest_backup_last_page_checksum_error_files", Type::Gauge,
     "Files with page checksum errors in the newest backup of the type (info: "
     "page-error-files)."},
    {"backrest_repo_backup_size_bytes", Type::Gauge,
     "Repository bytes of the stanza's backups (the sum of their repository deltas)."},
    {"backrest_repo_archive_size_bytes", Type::Gauge,
     "Repository bytes of the stanza's archived WAL (segments and history files)."},
    {"backrest_archive_last_segment_info", Type::Gauge,
     "The newest WAL segment in the repository's archive, as the label segment (value 1)."},
    {"backrest_archive_lag_segments", Type::Gauge,
     "WAL segments the server finished that are newer than the newest in the repository's "
     "archive."},
    {"backrest_archive_lag_seconds", Type::Gauge,
     "Seconds since the server finished the oldest of those segments (0 when none)."},
    {"backrest_daemon_up", Type::Gauge,
     "1 when the daemon (backrest serve) answered, 0 when not (CLI only)."},
    {"backrest_wal_stream_up", Type::Gauge,
     "1 while the daemon's WAL stream (archive-async) is streaming, 0 otherwise."},
    {"backrest_archive_pushed_total", Type::Counter,
     "WAL segments the daemon stored in the first repository since it started."},
    {"backrest_archive_failures_total", Type::Counter,
     "Failed archive requests of the server per repository since the daemon started."},
    {"backrest_drill_last_success", Type::Gauge,
     "1 when the newest restore drill passed, 0 when it failed (appears once drills run)."},
    {"backrest_drill_last_duration_seconds", Type::Gauge,
     "Seconds the newest restore drill took (appears once drills run)."},
    {"backrest_drill_last_age_seconds", Type::Gauge,
     "Seconds from the end of the newest restore drill to the scrape (appears once drills run)."},
};

int64_t integerAt(const json& node, const json::json_pointer& at) {
    if (!node.contains(at)) return 0;
    const json& v = node.at(at);
    return v.is_number() ? v.get<int64_t>() : 0;
}

}  // namespace

std::optional<ServerWal> readServerWal(const std::string& pgPath) {
    ServerWal wal;
    std::error_code ec;
    std::string dir = pgPath + "/pg_wal/archive_status";
    std::filesystem::directory_iterator it(dir, ec);
    if (ec) return std::nullopt;
    for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
        if (ec) return std::nullopt;
        std::string name = it->path().filename().string();
        if (name.size() < 24 || !pg::isWalSegmentName(name.substr(0, 24))) continue;
        std::string_view rest = std::string_view(name).substr(24);
        if (rest != ".ready" && rest != ".done") continue;
        struct stat st {};
        if (::stat(it->path().c_str(), &st) != 0) continue;  // archived and removed meanwhile
        wal.finished.emplace_back(name.substr(0, 24), static_cast<int64_t>(st.st_mtime));
    }
    std::sort(wal.finished.begin(), wal.finished.end());
    return wal;
}

void declareMetrics(MetricsText& out) {
    for (const auto& f : kFamilies) out.family(f.name, f.type, f.help);
}

void addRepoUp(MetricsText& out, int repo, bool up) {
    out.add("backrest_repo_up", {{"repo", repoName(repo)}}, up ? 1 : 0);
}

void addStanzaMetrics(MetricsText& out, const json& stanza, int repo, int64_t now,
                      const ServerWal* wal) {
    std::string name = stanza.value("name", "");
    MetricLabels labels = {{"stanza", name}, {"repo", repoName(repo)}};
    out.add("backrest_stanza_status", labels,
            static_cast<double>(integerAt(stanza, "/status/code"_json_pointer)));
    std::map<std::string, const json*> last;
    std::map<std::string, int> count = {{"full", 0}, {"diff", 0}, {"incr", 0}};
    uint64_t backupBytes = 0;
    static const json kNone = json::array();
    const json& backups = stanza.contains("backup") ? stanza["backup"] : kNone;
    for (const auto& b : backups) {
        std::string type = b.value("type", "");
        count[type]++;
        // Labels sort by time; info lists them in that order.
        last[type] = &b;
        backupBytes += static_cast<uint64_t>(integerAt(b, "/info/repository/delta"_json_pointer));
    }
    for (const auto& [type, n] : count) {
        MetricLabels typed = labels;
        typed.emplace_back("type", type);
        out.add("backrest_backup_count", typed, n);
        auto it = last.find(type);
        if (it == last.end()) continue;
        const json& b = *it->second;
        int64_t start = integerAt(b, "/timestamp/start"_json_pointer);
        int64_t stop = integerAt(b, "/timestamp/stop"_json_pointer);
        out.add("backrest_backup_last_timestamp_seconds", typed, static_cast<double>(stop));
        out.add("backrest_backup_last_age_seconds", typed, static_cast<double>(now - stop));
        out.add("backrest_backup_last_duration_seconds", typed, static_cast<double>(stop - start));
        out.add("backrest_backup_last_size_bytes", typed,
                static_cast<double>(integerAt(b, "/info/size"_json_pointer)));
        out.add("backrest_backup_last_delta_bytes", typed,
                static_cast<double>(integerAt(b, "/info/delta"_json_pointer)));
        out.add("backrest_backup_last_repo_size_bytes", typed,
                static_cast<double>(integerAt(b, "/info/repository/size"_json_pointer)));
        out.add("backrest_backup_last_repo_delta_bytes", typed,
                static_cast<double>(integerAt(b, "/info/repository/delta"_json_pointer)));
        out.add("backrest_backup_last_page_checksum_error_files", typed,
                static_cast<double>(integerAt(b, "/info/page-error-files"_json_pointer)));
    }
    out.add("backrest_repo_backup_size_bytes", labels, static_cast<double>(backupBytes));
    if (stanza.contains("archive-bytes"))
        out.add("backrest_repo_archive_size_bytes", labels,
                static_cast<double>(stanza["archive-bytes"].get<uint64_t>()));
    // The newest segment of any archive id (after a stanza-upgrade the newest id's).
    std::string newest;
    for (const auto& a : stanza.value("archive", json::array()))
        if (a.contains("max") && a["max"].is_string()) newest = a["max"].get<std::string>();
    if (!newest.empty()) {
        MetricLabels segment = labels;
        segment.emplace_back("segment", newest);
        out.add("backrest_archive_last_segment_info", segment, 1);
    }
    if (wal) {
        // Segment names order as WAL does (timeline, then position): every finished segment
        // named after the newest archived one is one the repository lacks.
        int64_t lagSegments = 0, oldest = now;
        for (const auto& [segment, finishedAt] : wal->finished)
            if (segment > newest) {
                lagSegments++;
                oldest = std::min(oldest, finishedAt);
            }
        out.add("backrest_archive_lag_segments", labels, static_cast<double>(lagSegments));
        out.add("backrest_archive_lag_seconds", labels,
                static_cast<double>(lagSegments ? std::max<int64_t>(0, now - oldest) : 0));
    }
    addDrillMetrics(out, stanza, repo, now);
}

void addDaemonMetrics(MetricsText& out, const std::string& stanza,
                      const std::optional<protocol::ArchiveStatusReply>& status) {
    MetricLabels labels = {{"stanza", stanza}};
    out.add("backrest_daemon_up", labels, status ? 1 : 0);
    if (!status) return;
    out.add("backrest_wal_stream_up", labels, status->stream.starts_with("streaming") ? 1 : 0);
    out.add("backrest_archive_pushed_total", labels, static_cast<double>(status->pushed));
    for (const auto& [repo, failures] : status->failures)
        out.add("backrest_archive_failures_total", {{"stanza", stanza}, {"repo", repoName(repo)}},
                static_cast<double>(failures));
}

// The newest restore drill kept in the repository (info JSON's `drill[]`, doc/info-json.md):
// passed or not, its whole duration (end - start) and its age; nothing until a drill ran.
void addDrillMetrics(MetricsText& out, const json& stanza, int repo, int64_t now) {
    if (!stanza.contains("drill") || !stanza["drill"].is_array() || stanza["drill"].empty()) return;
    const json& last = stanza["drill"].back();
    MetricLabels labels = {{"stanza", stanza.value("name", "")}, {"repo", repoName(repo)}};
    bool passed = last.contains("result") && last["result"].is_string() &&
                  last["result"].get<std::string>() == "passed";
    out.add("backrest_drill_last_success", labels, passed ? 1 : 0);
    int64_t start = integerAt(last, "/timestamp/start"_json_pointer);
    int64_t stop = integerAt(last, "/timestamp/stop"_json_pointer);
    if (start > 0 && stop >= start)
        out.add("backrest_drill_last_duration_seconds", labels, static_cast<double>(stop - start));
    if (stop > 0)
        out.add("backrest_drill_last_age_seconds", labels, static_cast<double>(now - stop));
}

json stanzaMetricsJson(storage::Storage& repo, const repo::Layout& layout) {
    json stanza = stanzaInfoJson(repo, layout);
    uint64_t bytes = 0;
    for (const auto& a : stanza.value("archive", json::array())) {
        std::string dir = layout.archiveIdDir(a.value("id", ""));
        for (const auto& e : repo.list(dir)) {
            if (e.type == storage::FileType::File) bytes += e.size;  // timeline history files
            if (e.type != storage::FileType::Path) continue;
            for (const auto& f : repo.list(dir + "/" + e.name))
                if (f.type == storage::FileType::File) bytes += f.size;
        }
    }
    stanza["archive-bytes"] = bytes;
    return stanza;
}

namespace {

// The daemon of --stanza's cluster: at --socket-path, else where the extension puts it by
// default (<pg1-socket-path>/backrest.<pg1-port>).
std::optional<protocol::ArchiveStatusReply> askDaemon(const Config& config) {
    std::string dir =
        config.find(opt::socketPath)
            .value_or(fmt::format("{}/backrest.{}",
                                  config.find(opt::pg1SocketPath).value_or("/var/run/postgresql"),
                                  config.getInt(opt::pg1Port)));
    try {
        protocol::Client client(dir + "/backrest.sock", "metrics", kDaemonTimeoutMs);
        return client.call(protocol::ArchiveStatus{}, kDaemonTimeoutMs);
    } catch (const std::exception& e) {
        logDetail("metrics: the daemon at {} did not answer: {}", dir, e.what());
        return std::nullopt;
    }
}

}  // namespace

int metrics(const Config& config) {
    std::optional<std::string> stanzaName = config.find(opt::stanza);
    int64_t now = std::time(nullptr);
    std::optional<ServerWal> wal;
    if (stanzaName && config.find(opt::pg1Path)) wal = readServerWal(pgPath(config));
    MetricsText out;
    declareMetrics(out);
    std::vector<int> repos = selectedRepos(config);
    std::string failed;
    ErrorCode code = ErrorCode::Assert;
    size_t answered = 0;
    for (int index : repos) {
        useRepoKey(nullptr);  // each repository's own key
        try {
            json stanzas = inRepo(index, [&] {
                return repoStanzasJson(config.forRepo(index), InfoQuery{},
                                       [](storage::Storage& repo, const repo::Layout& layout) {
                                           return stanzaMetricsJson(repo, layout);
                                       });
            });
            addRepoUp(out, index, true);
            for (const auto& stanza : stanzas)
                addStanzaMetrics(out, stanza, index, now, wal ? &*wal : nullptr);
            answered++;
        } catch (const Error& e) {
            addRepoUp(out, index, false);
            if (failed.empty()) code = e.code();
            failed += fmt::format("{}{}: {}", failed.empty() ? "" : "; ",
                                  describeRepo(config, index), e.what());
        }
    }
    if (stanzaName) addDaemonMetrics(out, *stanzaName, askDaemon(config));
    fmt::print("{}", out.str());
    std::fflush(stdout);
    // A repository that cannot be read is the series backrest_repo_up 0 (alerting sees it); the
    // command fails only when none could be read, and then names each.
    if (answered == 0)
        throw Error(code, fmt::format("metrics: no repository could be read: {}", failed));
    if (!failed.empty()) logWarn("metrics: {}", failed);
    return 0;
}

}  // namespace backrest::cmd
