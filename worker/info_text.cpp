// The text of `info`: pgBackRest's layout (stanza, status, cipher, then "db (prior)" sections of
// earlier databases and "db (current)", each with its WAL range and one block per backup), with
// backrest's extra lines (LSNs, file count, page checksum errors, side-branch warnings, the key
// generation).
#include <fmt/format.h>

#include <algorithm>

#include "pg/wal.h"
#include "worker/archive_timelines.h"
#include "worker/context.h"
#include "worker/info.h"

namespace backrest::cmd {

namespace {

using nlohmann::json;

std::string orNone(const json& value) {
    return value.is_null() ? "none" : value.get<std::string>();
}

void printArchive(const json& a) {
    // pgBackRest names the PostgreSQL version ("15"), the part of the archive id before '-'.
    std::string id = a["id"].get<std::string>();
    fmt::print("        wal archive min/max ({}): {}/{}\n", id.substr(0, id.find('-')),
               orNone(a["min"]), orNone(a["max"]));
    if (a.contains("dropped") && !a["dropped"].is_null()) {
        const json& d = a["dropped"];
        uint64_t count = d["count"].get<uint64_t>();
        fmt::print("        wal dropped (archive-push-queue-max): {} segment{}, {} to {}; {}\n",
                   count, count > 1 ? "s" : "", d["first"].get<std::string>(),
                   d["last"].get<std::string>(),
                   d["backup-after"].is_null()
                       ? fmt::format("no backup since: point-in-time recovery cannot go past "
                                     "{} until a new backup",
                                     d["first"].get<std::string>())
                       : fmt::format("restores from backup {} on recover whole",
                                     d["backup-after"].get<std::string>()));
    }
    for (const auto& b : a.value("side-branches", json::array()))
        fmt::print(
            "        warning: {}\n",
            sideBranchWarning(
                {b["timeline"].get<uint32_t>(), b["parent"].get<uint32_t>(),
                 pg::parseLsn(b["branch-lsn"].get<std::string>()),
                 b["parent-archived-to"].get<std::string>(),
                 orNone(b["archived-to"]) == "none" ? "" : b["archived-to"].get<std::string>()}));
}

// pgBackRest's "database list: name (oid), …"; a backup that did not record names lists oids.
void printDatabaseList(const json& databases) {
    bool named = std::all_of(databases.begin(), databases.end(),
                             [](const json& d) { return !d["name"].get<std::string>().empty(); });
    std::string list;
    for (const auto& d : databases)
        list += fmt::format(
            "{}{}", list.empty() ? "" : ", ",
            named ? fmt::format("{} ({})", d["name"].get<std::string>(), d["oid"].get<uint64_t>())
                  : std::to_string(d["oid"].get<uint64_t>()));
    if (databases.empty())
        fmt::print("            database list: none\n");
    else if (named)
        fmt::print("            database list: {}\n", list);
    else
        fmt::print("            database list (oid, names not recorded): {}\n", list);
}

void printSetDetail(const json& b) {
    if (b.contains("database-ref") && !b["database-ref"].is_null())
        printDatabaseList(b["database-ref"]);
    if (b.contains("link") && !b["link"].is_null()) {
        fmt::print("            symlinks:\n");
        for (const auto& l : b["link"])
            fmt::print("                {} => {}\n", l["name"].get<std::string>(),
                       l["destination"].get<std::string>());
    }
    if (b.contains("tablespace") && !b["tablespace"].is_null()) {
        fmt::print("            tablespaces:\n");
        for (const auto& t : b["tablespace"])
            fmt::print("                {} ({}) => {}\n", t["name"].get<std::string>(),
                       t["oid"].get<uint64_t>(), t["destination"].get<std::string>());
    }
}

void printBackup(const json& b) {
    const json& info = b["info"];
    fmt::print("\n        {} backup: {}{}\n", b["type"].get<std::string>(),
               b["label"].get<std::string>(), b.value("error", false) ? " (error)" : "");
    fmt::print("            timestamp start/stop: {} / {}\n",
               formatTimestamp(b["timestamp"]["start"]), formatTimestamp(b["timestamp"]["stop"]));
    fmt::print("            wal start/stop: {} / {}\n", orNone(b["archive"]["start"]),
               orNone(b["archive"]["stop"]));
    fmt::print("            lsn start/stop: {} / {}\n", b["lsn"]["start"].get<std::string>(),
               b["lsn"]["stop"].get<std::string>());
    fmt::print("            database size: {}, database backup size: {}, files: {}\n",
               formatBytes(info["size"]), formatBytes(info["delta"]),
               info["file-count"].get<uint64_t>());
    fmt::print("            repo1: backup set size: {}, backup size: {}\n",
               formatBytes(info["repository"]["size"]), formatBytes(info["repository"]["delta"]));
    if (!b["reference"].is_null()) {
        std::string list;
        for (const auto& r : b["reference"])
            list += (list.empty() ? "" : ", ") + r.get<std::string>();
        fmt::print("            backup reference list: {}\n", list);
    }
    if (b.contains("wal-dropped") && !b["wal-dropped"].is_null()) {
        std::string first = b["wal-dropped"]["first"].get<std::string>();
        if (b["wal-dropped"]["inside-backup"].get<bool>())
            fmt::print(
                "            error: WAL {} this backup needs was dropped "
                "(archive-push-queue-max): it cannot be restored\n",
                first);
        else
            fmt::print(
                "            warning: WAL from {} was dropped (archive-push-queue-max): "
                "recovery from this backup stops before it\n",
                first);
    }
    if (uint64_t bad = info.value("page-error-files", uint64_t{0}); bad > 0)
        fmt::print("            page checksum errors: {} file{} (see the backup's manifest)\n", bad,
                   bad > 1 ? "s" : "");
    printSetDetail(b);
    if (b.contains("annotation")) {
        fmt::print("            annotation(s)\n");
        for (const auto& [key, value] : b["annotation"].items())
            fmt::print("                {}: {}\n", key, value.get<std::string>());
    }
}

// The rows of the last drill listed in text; info --output=json has them all.
constexpr size_t kDrillRowsShown = 20;

// The newest drill in full, then how many are kept and how they ended.
void printDrills(const json& drills) {
    if (drills.empty()) return;
    const json& d = drills.back();
    bool passed = d["result"] == "passed";
    std::string backup = d["backup"]["label"].is_null()
                             ? std::string("none chosen")
                             : fmt::format("{} ({})", d["backup"]["label"].get<std::string>(),
                                           orNone(d["backup"]["type"]));
    fmt::print("\n    last drill: {} {}, backup {}, target {}\n", d["id"].get<std::string>(),
               passed ? std::string("passed")
                      : "FAILED in " + (d["failed-phase"].is_null()
                                            ? std::string("checks")
                                            : d["failed-phase"].get<std::string>()),
               backup, d["target"]["requested"].get<std::string>());
    const json& reached = d["target"]["reached"];
    if (!reached["lsn"].is_null())
        fmt::print("        reached: lsn {}, segment {}{}{}, {} WAL segment(s) replayed\n",
                   reached["lsn"].get<std::string>(), orNone(reached["segment"]),
                   reached["time"].is_null() ? "" : ", last transaction " + orNone(reached["time"]),
                   reached["end-of-archive"].get<bool>() ? " (end of archive)" : "",
                   d["wal"]["replayed"].get<uint64_t>());
    fmt::print("        timestamp start/stop: {} / {}\n", formatTimestamp(d["timestamp"]["start"]),
               formatTimestamp(d["timestamp"]["stop"]));
    std::string phases;
    for (const auto& [phase, seconds] : d["duration"].items())
        phases +=
            fmt::format("{}{} {:.1f} s", phases.empty() ? "" : ", ", phase, seconds.get<double>());
    fmt::print("        duration: {}\n", phases);
    const json& c = d["checks"];
    fmt::print(
        "        checks: {} databases, {} btree indexes (bt_index_check), {} heaps "
        "(verify_heapam), {} tables counted, {} page checksum failures\n",
        c["databases"].get<uint64_t>(), c["btree-indexes"].get<uint64_t>(),
        c["heaps"].get<uint64_t>(), c["tables"].get<uint64_t>(),
        c["checksum-failures"].get<uint64_t>());
    if (!d["error"].is_null()) fmt::print("        error: {}\n", d["error"].get<std::string>());
    for (const auto& f : d["failures"]) {
        std::string where = f["database"].get<std::string>().empty()
                                ? std::string("shared relations")
                                : fmt::format("database \"{}\"", f["database"].get<std::string>());
        if (!f["relation"].get<std::string>().empty())
            where += ", relation " + f["relation"].get<std::string>();
        fmt::print("        failed: {}: {}: {}\n", where, f["check"].get<std::string>(),
                   f["message"].get<std::string>());
    }
    size_t shown = 0;
    for (const auto& r : d["row-count"]) {
        if (shown++ == kDrillRowsShown) {
            fmt::print("        rows: {} more tables (info --output=json)\n",
                       d["row-count"].size() - kDrillRowsShown);
            break;
        }
        fmt::print("        rows: {} {}: {} rows\n", r["database"].get<std::string>(),
                   r["table"].get<std::string>(), r["rows"].get<int64_t>());
    }
    size_t failed = static_cast<size_t>(std::count_if(
        drills.begin(), drills.end(), [](const json& x) { return x["result"] != "passed"; }));
    fmt::print("    drills kept: {} ({} passed, {} failed)\n", drills.size(),
               drills.size() - failed, failed);
}

}  // namespace

void printInfoText(const json& stanza) {
    const json& status = stanza["status"];
    bool held = status.contains("lock") && status["lock"]["backup"].value("held", false);
    fmt::print("stanza: {}\n    status: {}{}\n", stanza["name"].get<std::string>(),
               status["code"].get<int>() == 0
                   ? std::string("ok")
                   : fmt::format("error ({})", status["message"].get<std::string>()),
               held ? " (backup/expire running)" : "");
    if (stanza.contains("key-generation"))
        fmt::print("    cipher: {} (key {}, generation {})\n", stanza["cipher"].get<std::string>(),
                   stanza["key-id"].get<std::string>(), stanza["key-generation"].get<uint64_t>());
    else
        fmt::print("    cipher: {}\n", stanza.value("cipher", "none"));
    if (stanza["db"].empty()) return printDrills(stanza.value("drill", json::array()));
    // One section per database (pgBackRest's layout after a stanza-upgrade): an earlier one, "db
    // (prior)", only when WAL or backups of it remain; the current one (newest db-id) always.
    int current = 0;
    for (const auto& db : stanza["db"]) current = std::max(current, db["id"].get<int>());
    for (const auto& db : stanza["db"]) {
        int id = db["id"].get<int>();
        auto ofDb = [&](const json& entry) { return entry["database"]["id"].get<int>() == id; };
        bool shown = id == current;
        for (const auto& a : stanza["archive"]) shown = shown || (ofDb(a) && !a["min"].is_null());
        for (const auto& b : stanza["backup"]) shown = shown || ofDb(b);
        if (!shown) continue;
        fmt::print("\n    db ({})\n", id == current ? "current" : "prior");
        for (const auto& a : stanza["archive"])
            if (ofDb(a)) printArchive(a);
        for (const auto& b : stanza["backup"])
            if (ofDb(b)) printBackup(b);
    }
    printDrills(stanza.value("drill", json::array()));
}

}  // namespace backrest::cmd
