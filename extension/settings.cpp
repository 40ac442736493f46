// The backrest.* GUCs: only what the server side needs. The repository's settings stay in the
// backrest config file, shared with the CLI, and reach the daemon through backrest.config.
#include "settings.h"

#include <fmt/format.h>

#include "common/cron_schedule.h"
#include "common/error.h"
#include "pg.h"
#include "pg_guard.h"

namespace backrest::ext {

Settings settings;

namespace {
bool loadedAtStartup = false;

// A bad schedule is refused when it is set (ALTER SYSTEM, SET, a reload), naming the entry, and
// the one in force stays: a typo never turns scheduled backups off silently. Called by
// PostgreSQL, so nothing may escape as a C++ exception.
bool checkSchedule(char** newval, void**, GucSource) {
    try {
        schedule::parseSchedule(*newval != nullptr ? *newval : "");
        return true;
    } catch (const std::exception& e) {
        GUC_check_errmsg("%s", e.what());
        GUC_check_errhint(
            "Entries are '<full|diff|incr> <minute> <hour> <day> <month> <weekday>' or "
            "'<type> @daily' (also @hourly, @weekly, @monthly), separated by ';'.");
        return false;
    }
}
}  // namespace

void defineSettings(bool preloading) {
    // The stanza (the cluster's name in the repository). No default: archiving into a guessed
    // stanza would mix clusters, so nothing runs until it is set. SIGHUP: the launcher restarts
    // the daemon when it changes.
    DefineCustomStringVariable("backrest.stanza",
                               "Stanza of this cluster in the backrest repository.",
                               "Archiving, backups and the daemon stay off while it is empty.",
                               &settings.stanza, "", PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
    // The backrest config file (repository, compression, process-max...), the same file the
    // CLI reads; passed to the daemon as --config.
    DefineCustomStringVariable("backrest.config", "Path of the backrest configuration file.",
                               nullptr, &settings.config, "/etc/backrest/backrest.conf", PGC_SIGHUP,
                               0, nullptr, nullptr, nullptr);
    // The backrest binary the launcher runs as `backrest serve`.
    DefineCustomStringVariable("backrest.worker_path",
                               "Path of the backrest binary started as the daemon.", nullptr,
                               &settings.workerPath, "/usr/local/bin/backrest", PGC_SIGHUP,
                               GUC_SUPERUSER_ONLY, nullptr, nullptr, nullptr);
    // Asynchronous archiving: the daemon pushes .ready segments ahead of the archiver, so the
    // archive callback usually finds its segment already stored.
    DefineCustomBoolVariable(
        "backrest.archive_async", "Lets the backrest daemon push WAL ahead of the archiver.",
        nullptr, &settings.archiveAsync, false, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
    // How long the archive callback waits for the daemon before reporting a failure (PostgreSQL
    // then retries the segment): bounds how long a hung daemon can stall the archiver.
    DefineCustomIntVariable(
        "backrest.archive_timeout", "Seconds the archiver waits for the backrest daemon.", nullptr,
        &settings.archiveTimeout, 60, 1, 86400, PGC_SIGHUP, GUC_UNIT_S, nullptr, nullptr, nullptr);
    // The backups the launcher takes by itself (extension/schedule.h). SIGHUP: a reload takes a
    // new schedule at once.
    DefineCustomStringVariable(
        "backrest.schedule", "Backups the server takes by itself: '<type> <cron>; ...'.",
        "E.g. 'full 0 1 * * sun; incr 0 1 * * mon-sat'. Empty: none.", &settings.schedule, "",
        PGC_SIGHUP, 0, checkSchedule, nullptr, nullptr);
    // Whether a scheduled run missed while the server (or its daemon) was down, or while it was
    // a standby, is taken once when it is back.
    DefineCustomBoolVariable("backrest.schedule_catchup",
                             "Takes a scheduled backup missed while the server was down, once.",
                             nullptr, &settings.scheduleCatchup, true, PGC_SIGHUP, 0, nullptr,
                             nullptr, nullptr);
    // PGC_POSTMASTER settings can only be defined while the postmaster loads the library; loaded
    // later (CREATE EXTENSION without preloading) they stay placeholders, and so does the prefix
    // (reserving it would drop them with a misleading warning). Nothing uses them then.
    if (!preloading) return;
    // Where the daemon's socket lives. Empty means <first unix_socket_directories>/backrest.<port>,
    // private to this server. POSTMASTER: every process must agree on it for the server's life.
    DefineCustomStringVariable(
        "backrest.socket_directory", "Directory of the backrest daemon's Unix socket.",
        "Empty: <first entry of unix_socket_directories>/backrest.<port>.",
        &settings.socketDirectory, "", PGC_POSTMASTER, 0, nullptr, nullptr, nullptr);
    // The database the backup background worker connects to (it needs one for SPI); any
    // database will do, so the default is the one every cluster has.
    DefineCustomStringVariable(
        "backrest.database", "Database the backup background worker connects to.", nullptr,
        &settings.database, "postgres", PGC_POSTMASTER, 0, nullptr, nullptr, nullptr);
    MarkGUCPrefixReserved("backrest");
}

bool preloaded() {
    return loadedAtStartup;
}
void setPreloaded() {
    loadedAtStartup = true;
}

void requirePreloaded(const char* what) {
    if (!loadedAtStartup)
        throw SqlError(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                       fmt::format("{} requires backrest to be loaded at server start", what),
                       "Add 'backrest' to shared_preload_libraries in postgresql.conf and restart "
                       "the server.");
}

std::string requireStanza(const char* what) {
    if (settings.stanza == nullptr || settings.stanza[0] == '\0')
        throw SqlError(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                       fmt::format("{} needs a stanza, but backrest.stanza is not set", what),
                       "Set backrest.stanza in postgresql.conf (ALTER SYSTEM SET backrest.stanza = "
                       "'main') and "
                       "reload the configuration.");
    return settings.stanza;
}

std::string socketDirectory() {
    if (settings.socketDirectory != nullptr && settings.socketDirectory[0] != '\0')
        return settings.socketDirectory;
    // unix_socket_directories is a comma-separated list whose entries may be double-quoted.
    std::string list = Unix_socket_directories != nullptr ? Unix_socket_directories : "";
    std::string first = list.substr(0, list.find(','));
    auto begin = first.find_first_not_of(" \t");
    auto end = first.find_last_not_of(" \t");
    first = begin == std::string::npos ? "" : first.substr(begin, end - begin + 1);
    if (first.size() >= 2 && first.front() == '"' && first.back() == '"')
        first = first.substr(1, first.size() - 2);
    if (first.empty())
        throw SqlError(
            ERRCODE_CONFIG_FILE_ERROR,
            "backrest cannot place its daemon's socket: unix_socket_directories is empty",
            "Set backrest.socket_directory to a directory the server's user may create.");
    return fmt::format("{}/backrest.{}", first, PostPortNumber);
}

std::string socketPath() {
    return socketDirectory() + "/backrest.sock";
}

}  // namespace backrest::ext
