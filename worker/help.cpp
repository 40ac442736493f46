// help and version: what each command does and which options it reads.
#include <fmt/format.h>

#include <map>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/version.h"
#include "worker/commands.h"

namespace backrest::cmd {

namespace {

struct CommandHelp {
    const char* summary;
    const char* usage;
    std::vector<const char*> options;
};

const std::map<std::string, CommandHelp>& commandHelp() {
    static const std::map<std::string, CommandHelp> help = {
        {"stanza-create",
         {"Create the stanza: record the cluster's version and system identifier in the "
          "repository.",
          "backrest --stanza=NAME stanza-create",
          {"stanza", "pg1-path", "repo1-path"}}},
        {"stanza-rekey",
         {"Change the passphrase of an encrypted stanza: re-wraps the repository key in "
          "backup.info "
          "and archive.info under the new passphrase; no data file is read or written, and a "
          "crash leaves either the old or the new passphrase working (run it again to finish).",
          "BACKREST_REPO1_CIPHER_PASS=old BACKREST_REPO1_CIPHER_PASS_NEW=new backrest "
          "--stanza=NAME stanza-rekey",
          {"stanza", "repo1-path", "repo1-cipher-type", "repo1-cipher-pass",
           "repo1-cipher-pass-new", "lock-path"}}},
        {"check",
         {"Check the cluster matches the stanza and pg1-path, and that WAL reaches the repository.",
          "backrest --stanza=NAME check",
          {"stanza", "pg1-path", "pg1-socket-path", "pg1-port", "pg1-user", "repo1-path",
           "archive-timeout"}}},
        {"backup",
         {"Back up the cluster over libpq: full, diff (changes since the last full) or incr (since "
          "the last backup).",
          "backrest --stanza=NAME backup [--type=full|diff|incr]",
          {"stanza",
           "type",
           "pg1-path",
           "pg1-socket-path",
           "pg1-port",
           "pg1-user",
           "repo1-path",
           "process-max",
           "compress-type",
           "compress-level",
           "checksum-type",
           "start-fast",
           "archive-check",
           "archive-timeout",
           "lock-path",
           "repo1-retention-full",
           "repo1-retention-diff",
           "repo1-block",
           "repo1-bundle",
           "repo1-bundle-size",
           "repo1-bundle-limit"}}},
        {"restore",
         {"Restore a backup into an empty data directory, with recovery settings for PITR.",
          "backrest --stanza=NAME restore [--set=LABEL] [--type=time --target=...]",
          {"stanza", "pg1-path", "repo1-path", "set", "type", "target", "target-action",
           "target-timeline", "target-exclusive", "tablespace-map", "tablespace-map-all",
           "recovery-option", "archive-mode", "process-max", "delta", "force", "lock-path"}}},
        {"archive-push",
         {"Archive a WAL file (archive_command = 'backrest --stanza=NAME archive-push %p').",
          "backrest --stanza=NAME archive-push WAL_PATH",
          {"stanza", "repo1-path", "compress-type", "compress-level", "pg1-path"}}},
        {"archive-get",
         {"Fetch a WAL file (restore_command); exit 1 when it is not archived, "
          "255 (recovery stops) on any other failure.",
          "backrest --stanza=NAME archive-get WAL_NAME DESTINATION",
          {"stanza", "repo1-path"}}},
        {"info",
         {"Show the stanzas, their archived WAL range and their backups.",
          "backrest [--stanza=NAME] [--output=json] info",
          {"stanza", "repo1-path", "output"}}},
        {"serve",
         {"Run the worker daemon the extension talks to (started by the extension's launcher).",
          "backrest --stanza=NAME --pg1-path=PGDATA --socket-path=DIR serve [--archive-async]",
          {"stanza", "pg1-path", "socket-path", "archive-async", "process-max", "repo1-path",
           "compress-type", "compress-level", "checksum-type", "archive-timeout", "lock-path",
           "spool-path"}}},
        {"expire",
         {"Remove backups past retention, with the backups that depend on them, and WAL no "
          "retained backup needs; a backup a restore or verify is reading is kept until the next "
          "expire.",
          "backrest --stanza=NAME expire [--set=LABEL] [--dry-run]",
          {"stanza", "repo1-path", "repo1-retention-full", "repo1-retention-diff",
           "repo1-retention-archive", "repo1-retention-archive-type", "set", "dry-run",
           "lock-path"}}},
        {"verify",
         {"Read back every backup file and archived WAL file, check its checksum and that each "
          "backup's WAL is archived; changes nothing.",
          "backrest --stanza=NAME verify [--set=LABEL] [--output=text|json] [--process-max=N]",
          {"stanza", "repo1-path", "set", "output", "process-max", "buffer-size", "lock-path"}}},
        {"help", {"Show help for a command.", "backrest help [COMMAND]", {}}},
        {"version", {"Show the backrest version.", "backrest version", {}}},
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
            "variables, and /etc/backrest/backrest.conf ([global], [STANZA] sections).\n"
            "Use 'backrest help COMMAND' for a command's options.\n");
        return 0;
    }
    auto it = commands.find(config.params()[0]);
    if (it == commands.end()) {
        fmt::print(stderr,
                   "ERROR: [{:03d}] CommandError: unknown command '{}'; see 'backrest help'\n", 41,
                   config.params()[0]);
        return 41;
    }
    fmt::print("{}\n\nUsage: {}\n", it->second.summary, it->second.usage);
    if (!it->second.options.empty()) fmt::print("\nOptions:\n");
    for (const char* name : it->second.options) {
        const OptionDef* def = findOptionDef(name);
        if (!def) continue;
        fmt::print(
            "  --{:<20} {}{}\n", name, def->help,
            def->defaultValue.empty() ? "" : fmt::format(" [default: {}]", def->defaultValue));
    }
    return 0;
}

int version(const Config&) {
    fmt::print("backrest {}\n", kVersion);
    return 0;
}

}  // namespace backrest::cmd
