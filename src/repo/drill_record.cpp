// The drill history in the repository (repo/drill_record.h).
#include "repo/drill_record.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <ctime>

#include "common/error.h"
#include "repo/checksummed_json.h"
#include "repo/repo_cipher.h"

namespace backrest::repo {

namespace {

using nlohmann::json;

constexpr std::string_view kSuffix = ".json";

template <typename T>
T required(const json& doc, const char* key, const std::string& context) {
    if (!doc.contains(key)) raise(ErrorCode::Format, "drill record '{}' has no '{}'", context, key);
    try {
        return doc.at(key).get<T>();
    } catch (const json::exception&) {
        raise(ErrorCode::Format, "drill record '{}': '{}' is not of the expected type", context,
              key);
    }
}

json nullIfEmpty(const std::string& s) {
    return s.empty() ? json(nullptr) : json(s);
}

std::string stringOrEmpty(const json& doc, const char* key) {
    return doc.contains(key) && doc[key].is_string() ? doc[key].get<std::string>() : "";
}

}  // namespace

double DrillRecord::duration(const std::string& phase) const {
    for (const auto& [name, seconds] : durations)
        if (name == phase) return seconds;
    return 0;
}

std::string drillId(int64_t epochMillis) {
    std::time_t seconds = static_cast<std::time_t>(epochMillis / 1000);
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    return fmt::format("{:04}{:02}{:02}-{:02}{:02}{:02}{:03}", tm.tm_year + 1900, tm.tm_mon + 1,
                       tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, epochMillis % 1000);
}

bool isDrillId(std::string_view name) {
    if (name.size() != 18 || name[8] != '-') return false;
    for (size_t i = 0; i < name.size(); i++)
        if (i != 8 && (name[i] < '0' || name[i] > '9')) return false;
    return true;
}

json drillJson(const DrillRecord& r) {
    json durations = json::object();
    for (const auto& [phase, seconds] : r.durations)
        durations[phase] = std::round(seconds * 1000) / 1000;
    json rows = json::array();
    for (const auto& c : r.rowCounts)
        rows.push_back({{"database", c.database}, {"table", c.table}, {"rows", c.rows}});
    json failures = json::array();
    for (const auto& f : r.failures)
        failures.push_back({{"database", f.database},
                            {"relation", f.relation},
                            {"check", f.check},
                            {"message", f.message}});
    return {{"format", kDrillFormat},
            {"id", r.id},
            {"backup", {{"label", nullIfEmpty(r.backup)}, {"type", nullIfEmpty(r.backupType)}}},
            {"result", r.passed ? "passed" : "failed"},
            {"error", nullIfEmpty(r.error)},
            {"failed-phase", nullIfEmpty(r.failedPhase)},
            {"target",
             {{"requested", r.targetRequested},
              {"reached",
               {{"lsn", nullIfEmpty(r.reachedLsn)},
                {"segment", nullIfEmpty(r.reachedSegment)},
                {"time", nullIfEmpty(r.reachedTime)},
                {"end-of-archive", r.endOfArchive}}}}},
            {"wal", {{"start", nullIfEmpty(r.walStart)}, {"replayed", r.walReplayed}}},
            {"timestamp", {{"start", r.started}, {"stop", r.stopped}}},
            {"duration", durations},
            {"checks",
             {{"databases", r.databases},
              {"btree-indexes", r.btreeIndexes},
              {"heaps", r.heaps},
              {"tables", r.tables},
              {"checksum-failures", r.checksumFailures}}},
            {"row-count", rows},
            {"failures", failures}};
}

DrillRecord drillFromJson(const json& doc, const std::string& context) {
    if (!doc.is_object()) raise(ErrorCode::Format, "drill record '{}' is not an object", context);
    int format = required<int>(doc, "format", context);
    if (format != kDrillFormat)
        raise(ErrorCode::Format,
              "drill record '{}' has format {}; this backrest reads format {}: upgrade backrest",
              context, format, kDrillFormat);
    DrillRecord r;
    r.id = required<std::string>(doc, "id", context);
    std::string result = required<std::string>(doc, "result", context);
    if (result != "passed" && result != "failed")
        raise(ErrorCode::Format, "drill record '{}': result '{}' is neither passed nor failed",
              context, result);
    r.passed = result == "passed";
    auto backup = required<json>(doc, "backup", context);
    r.backup = stringOrEmpty(backup, "label");
    r.backupType = stringOrEmpty(backup, "type");
    r.error = stringOrEmpty(doc, "error");
    r.failedPhase = stringOrEmpty(doc, "failed-phase");
    auto target = required<json>(doc, "target", context);
    r.targetRequested = stringOrEmpty(target, "requested");
    auto reached = required<json>(target, "reached", context);
    r.reachedLsn = stringOrEmpty(reached, "lsn");
    r.reachedSegment = stringOrEmpty(reached, "segment");
    r.reachedTime = stringOrEmpty(reached, "time");
    r.endOfArchive = required<bool>(reached, "end-of-archive", context);
    auto wal = required<json>(doc, "wal", context);
    r.walStart = stringOrEmpty(wal, "start");
    r.walReplayed = required<uint64_t>(wal, "replayed", context);
    auto timestamp = required<json>(doc, "timestamp", context);
    r.started = required<int64_t>(timestamp, "start", context);
    r.stopped = required<int64_t>(timestamp, "stop", context);
    auto durations = required<json>(doc, "duration", context);
    for (const auto& [phase, seconds] : durations.items()) {
        if (!seconds.is_number())
            raise(ErrorCode::Format, "drill record '{}': duration of '{}' is not a number", context,
                  phase);
        r.durations.emplace_back(phase, seconds.get<double>());
    }
    // JSON objects keep no order: the phases are listed in the order a drill runs them.
    static const std::vector<std::string> order = {"plan",     "restore", "start",
                                                   "recovery", "checks",  "stop"};
    auto rank = [&](const std::string& phase) {
        return std::find(order.begin(), order.end(), phase) - order.begin();
    };
    std::stable_sort(r.durations.begin(), r.durations.end(),
                     [&](const auto& a, const auto& b) { return rank(a.first) < rank(b.first); });
    auto checks = required<json>(doc, "checks", context);
    r.databases = required<uint64_t>(checks, "databases", context);
    r.btreeIndexes = required<uint64_t>(checks, "btree-indexes", context);
    r.heaps = required<uint64_t>(checks, "heaps", context);
    r.tables = required<uint64_t>(checks, "tables", context);
    r.checksumFailures = required<uint64_t>(checks, "checksum-failures", context);
    for (const auto& c : required<json>(doc, "row-count", context))
        r.rowCounts.push_back({required<std::string>(c, "database", context),
                               required<std::string>(c, "table", context),
                               required<int64_t>(c, "rows", context)});
    for (const auto& f : required<json>(doc, "failures", context))
        r.failures.push_back({stringOrEmpty(f, "database"), stringOrEmpty(f, "relation"),
                              required<std::string>(f, "check", context),
                              stringOrEmpty(f, "message")});
    return r;
}

std::string drillDir(const Layout& layout) {
    return layout.backupRoot() + "/drill";
}

std::string drillPath(const Layout& layout, const std::string& id) {
    return drillDir(layout) + "/" + id + std::string(kSuffix);
}

std::vector<std::string> listDrills(storage::Storage& repo, const Layout& layout) {
    std::vector<std::string> ids;
    for (const auto& e : repo.list(drillDir(layout))) {
        if (!e.name.ends_with(kSuffix)) continue;  // the .copy files; .tmp of a torn write
        std::string id = e.name.substr(0, e.name.size() - kSuffix.size());
        if (isDrillId(id)) ids.push_back(id);
    }
    // A record whose main file was lost still has its copy.
    for (const auto& e : repo.list(drillDir(layout))) {
        std::string copySuffix = std::string(kSuffix) + ".copy";
        if (!e.name.ends_with(copySuffix)) continue;
        std::string id = e.name.substr(0, e.name.size() - copySuffix.size());
        if (isDrillId(id) && std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
    }
    std::sort(ids.begin(), ids.end());
    return ids;
}

void saveDrill(storage::Storage& repo, const Layout& layout, const DrillRecord& record) {
    std::string path = drillPath(layout, record.id);
    saveChecksummedText(repo, path,
                        sealMetadata(layout.key, path, serializeChecksummed(drillJson(record))));
    auto ids = listDrills(repo, layout);
    for (size_t i = 0; i + kDrillHistoryKept < ids.size(); i++) {
        // The main file first: a record half removed keeps its copy, listed and removed next time.
        repo.remove(drillPath(layout, ids[i]));
        repo.remove(drillPath(layout, ids[i]) + ".copy");
    }
}

std::vector<DrillRecord> loadDrills(storage::Storage& repo, const Layout& layout, size_t count) {
    auto ids = listDrills(repo, layout);
    if (ids.size() > count) ids.erase(ids.begin(), ids.end() - static_cast<ptrdiff_t>(count));
    std::vector<DrillRecord> out;
    for (const auto& id : ids) {
        auto record = loadChecksummedAs(
            repo, drillPath(layout, id),
            [](const std::string& text, const std::string& context) {
                return drillFromJson(parseChecksummed(text, context), context);
            },
            layout.key);
        if (record) out.push_back(std::move(*record));
    }
    return out;
}

}  // namespace backrest::repo
