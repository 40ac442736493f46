// help: what each command does and which options it reads (version is worker/version.cpp).
#include <fmt/format.h>

#include <map>
#include <string>

#include "common/config.h"
#include "common/error.h"
#include "common/version.h"
#include "worker/commands.h"

namespace backrest::cmd {

namespace {

// The options each command lists come from the option table (option_table.h, .commands).
struct CommandHelp {
    const char* summary;
    const char* usage;
};

// A table, one entry per command: its length is the number of commands, not logic.
const std::map<std::string, CommandHelp>& commandHelp() {
    static const std::map<std::string, CommandHelp> help = {
        {"stanza-create",
         {"Create the stanza: record the cluster's version and system identifier in the "
          "repository.",
          "backrest --stanza=NAME stanza-create"}},
        {"stanza-rekey",
         {"Change the passphrase of an encrypted stanza: re-wraps the repository key in "
          "backup.info "
          "and archive.info under the new passphrase; no data file is read or written, and a "
          "crash leaves either the old or the new passphrase working (run it again to finish).",
          "BACKREST_REPO1_CIPHER_PASS=old BACKREST_REPO1_CIPHER_PASS_NEW=new backrest "
          "--stanza=NAME stanza-rekey"}},
        {"check",
         {"Check the cluster matches the stanza and pg1-path, and that WAL reaches the repository.",
          "backrest --stanza=NAME check"}},
        {"backup",
         {"Back up the cluster over libpq: full, diff (changes since the last full) or incr (since "
          "the last backup).",
          "backrest --stanza=NAME backup [--type=full|diff|incr]"}},
        {"restore",
         {"Restore a backup into an empty data directory, with recovery settings for PITR.",
          "backrest --stanza=NAME restore [--set=LABEL] [--type=time --target=...]"}},
        {"drill",
         {"Restore drill: restore a backup (the latest, --set, or one reaching --type/--target) "
          "into drill-path, recover it as a throwaway cluster (no TCP, archive_mode off) to the "
          "end of the archive or the target, check every database with amcheck (bt_index_check, "
          "verify_heapam), count rows, stop and remove it; the result is kept in the repository "
          "and shown by info. Exits 0 only when every check passed.",
          "backrest --stanza=NAME --drill-path=DIR drill [--set=LABEL] [--type=time "
          "--target=...] [--drill-port=N]"}},
        {"archive-push",
         {"Archive a WAL file (archive_command = 'backrest --stanza=NAME archive-push %p').",
          "backrest --stanza=NAME archive-push WAL_PATH"}},
        {"archive-get",
         {"Fetch a WAL file (restore_command); exit 1 when it is not archived, "
          "255 (recovery stops) on any other failure.",
          "backrest --stanza=NAME archive-get WAL_NAME DESTINATION"}},
        {"info",
         {"Show the stanzas, their archived WAL range and their backups.",
          "backrest [--stanza=NAME] [--output=json] [--set=LABEL] [--type=full|diff|incr] info"}},
        {"serve",
         {"Run the worker daemon the extension talks to (started by the extension's launcher).",
          "backrest --stanza=NAME --pg1-path=PGDATA --socket-path=DIR serve [--archive-async]"}},
        {"expire",
         {"Remove backups past retention, with the backups that depend on them, and WAL no "
          "retained backup needs; a backup a restore or verify is reading is kept until the next "
          "expire.",
          "backrest --stanza=NAME expire [--set=LABEL] [--dry-run]"}},
        {"verify",
         {"Read back every backup file and archived WAL file, check its checksum and that each "
          "backup's WAL is archived; changes nothing.",
          "backrest --stanza=NAME verify [--set=LABEL] [--output=text|json] [--process-max=N]"}},
        {"annotate",
         {"Add, change or remove (empty value) the key/value annotations of a backup, shown by "
          "info.",
          "backrest --stanza=NAME annotate --set=LABEL --annotation=KEY=VALUE..."}},
        {"help", {"Show help for a command.", "backrest help [COMMAND]"}},
        {"metrics",
         {"Print the repositories' (and, with --stanza, the daemon's) metrics in Prometheus text "
          "format; an unreadable repository is backrest_repo_up 0, an error only when none can be "
          "read.",
          "backrest [--stanza=NAME] [--repo=N] metrics"}},
        {"version",
         {"Show the backrest version; --output=num prints it as one number (0.1.0: 1000), as "
          "pgBackRest's 2045000 for 2.45. With version-format=pgbackrest it prints the pgBackRest "
          "release backrest implements (pgBackRest 2.45), for monitoring that checks pgBackRest's "
          "version.",
          "backrest version [--output=text|num] [--version-format=backrest|pgbackrest]"}},
        {"repo-ls",
         {"List the repository's files under a path (relative to the repository), as stored; a "
          "timeline history file by its name in pg_wal (<tl>.history), as pgBackRest's.",
          "backrest repo-ls [PATH] [--output=text|json] [--filter=REGEX] [--recurse] "
          "[--sort=asc|desc|none]"}},
        {"repo-get",
         {"Write a repository file to stdout, decrypted (unless --raw) but not decompressed; exit "
          "1 with --ignore-missing when it does not exist.",
          "backrest repo-get PATH [--raw] [--ignore-missing]"}},
        {"stop",
         {"Stop backrest on this host (every stanza, or --stanza's): backup, archive-push, "
          "archive-get, expire, stanza-create and stanza-upgrade refuse to start, the daemon's "
          "too; --force also ends the running backups.",
          "backrest [--stanza=NAME] stop [--force]"}},
        {"start", {"Allow backrest to run again after stop.", "backrest [--stanza=NAME] start"}},
        {"stanza-delete",
         {"Remove a stanza's archive and backups; needs 'backrest stop --stanza' on this host "
          "first "
          "and PostgreSQL down (unless --force). Run it again to finish an interrupted delete.",
          "backrest --stanza=NAME stanza-delete [--force]"}},
        {"stanza-upgrade",
         {"After a pg_upgrade or a new initdb of the cluster in pg1-path: record it as the "
          "stanza's current database (the next db-id); earlier backups and WAL stay restorable.",
          "backrest --stanza=NAME stanza-upgrade"}},
    };
    return help;
}

}  // namespace

int help(const Config& config) {
    const auto& commands = commandHelp();
    if (config.params().empty()) {
        fmt::print(
            "backrest {} - PostgreSQL backup and restore\n\nUsage: backrest [options] <command> "
            "[parameters]\n\nCommands:\n",
            kVersion);
        for (const auto& [name, h] : commands) fmt::print("  {:<14} {}\n", name, h.summary);
        fmt::print(
            "\nOptions come from the command line (--name=value), BACKREST_NAME environment\n"
            "variables (pgBackRest's PGBACKREST_NAME when BACKREST_NAME is unset), and\n"
            "/etc/backrest/backrest.conf with the *.conf files of /etc/backrest/conf.d\n"
            "(--config, --config-include-path; [global], [STANZA] sections).\n"
            "Log files: --log-path=DIR writes DIR/STANZA-COMMAND.log at --log-level-file.\n"
            "Use 'backrest help COMMAND' for a command's options.\n");
        return 0;
    }
    auto it = commands.find(config.params()[0]);
    if (it == commands.end()) {
        Error unknown(ErrorCode::Command,
                      fmt::format("unknown command '{}'; see 'backrest help'", config.params()[0]));
        fmt::print(stderr, "ERROR: {}\n", unknown.display());
        return unknown.exitCode();
    }
    fmt::print("{}\n\nUsage: {}\n", it->second.summary, it->second.usage);
    const auto options = commandOptions(it->first);
    if (!options.empty()) fmt::print("\nOptions:\n");
    for (const OptionDef* def : options) {
        fmt::print(
            "  --{:<20} {}{}\n", def->name, def->help,
            def->defaultValue.empty() ? "" : fmt::format(" [default: {}]", def->defaultValue));
    }
    return 0;
}

}  // namespace backrest::cmd
