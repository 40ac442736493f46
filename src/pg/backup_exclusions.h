// What a base backup leaves out of a data directory, as PostgreSQL's documentation and
// basebackup.c define it: runtime state that is rebuilt at start, and WAL (archived apart).
#pragma once

#include <string_view>

namespace backrest::pg {

// `path` is relative to the data directory ("pg_stat_tmp/global.stat"). True when the entry
// itself is skipped.
bool isExcludedFile(std::string_view path, std::string_view name);
// True when the directory is kept but its contents are not (pg_wal, pg_replslot, ...).
bool isContentExcludedDir(std::string_view path);
// Temporary files and directories (pgsql_tmp*) anywhere, and temporary relations
// (t<backend>_<relfilenode>...) in database directories.
bool isTemporaryName(std::string_view name);
// Relation file names: "<relfilenode>[_fork][.segment]"; returns the relfilenode part or empty.
std::string_view relfilenodeOf(std::string_view name);

}  // namespace backrest::pg
