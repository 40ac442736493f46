// Base backup exclusion rules (PostgreSQL 15, "Backing Up the Data Directory").
#include "pg/backup_exclusions.h"

#include <array>

namespace backrest::pg {

namespace {

constexpr std::array kExcludedFiles = {
    std::string_view("postmaster.pid"),
    std::string_view("postmaster.opts"),
    std::string_view("backup_label"),
    std::string_view("tablespace_map"),
    std::string_view("backup_label.old"),
    std::string_view("backup_manifest"),
    std::string_view("current_logfiles"),
    std::string_view("postgresql.auto.conf.tmp"),
    std::string_view("recovery.signal"),
    std::string_view("standby.signal"),
    // An unfinished restore's marker (worker/restore_target.h): it belongs to that directory only.
    std::string_view("backrest.restore"),
};

constexpr std::array kContentExcludedDirs = {
    std::string_view("pg_wal"),      std::string_view("pg_replslot"),
    std::string_view("pg_dynshmem"), std::string_view("pg_notify"),
    std::string_view("pg_serial"),   std::string_view("pg_snapshots"),
    std::string_view("pg_stat_tmp"), std::string_view("pg_subtrans"),
};

bool allDigits(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (c < '0' || c > '9') return false;
    return true;
}

}  // namespace

bool isExcludedFile(std::string_view path, std::string_view name) {
    // Only the top-level files are runtime state; a user's file of that name deeper is data.
    if (path == name)
        for (auto excluded : kExcludedFiles)
            if (name == excluded) return true;
    // Relation cache init files are rebuilt at start.
    if (name.starts_with("pg_internal.init")) return true;
    return isTemporaryName(name);
}

bool isContentExcludedDir(std::string_view path) {
    for (auto dir : kContentExcludedDirs)
        if (path == dir) return true;
    return false;
}

bool isTemporaryName(std::string_view name) {
    if (name.starts_with("pgsql_tmp")) return true;
    // t<backend id>_<relfilenode>[_fork][.segment]
    if (name.size() > 3 && name[0] == 't') {
        auto underscore = name.find('_');
        if (underscore != std::string_view::npos && underscore > 1 &&
            allDigits(name.substr(1, underscore - 1)) &&
            !relfilenodeOf(name.substr(underscore + 1)).empty())
            return true;
    }
    return false;
}

std::string_view relfilenodeOf(std::string_view name) {
    size_t end = 0;
    while (end < name.size() && name[end] >= '0' && name[end] <= '9') end++;
    if (end == 0) return {};
    std::string_view rest = name.substr(end);
    for (std::string_view fork : {"_fsm", "_vm", "_init"})
        if (rest.starts_with(fork) && (rest.size() == fork.size() || rest[fork.size()] == '.')) {
            rest = rest.substr(fork.size());
            break;
        }
    if (rest.empty()) return name.substr(0, end);
    if (rest[0] == '.' && allDigits(rest.substr(1))) return name.substr(0, end);
    return {};
}

}  // namespace backrest::pg
