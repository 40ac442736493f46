// The backrest binary: parses options, runs one command, and turns a typed error into its
// message on stderr and its code as exit status.
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.h"
#include "common/error.h"
#include "common/log.h"
#include "common/log_file.h"
#include "worker/commands.h"
#include "worker/multi_repo.h"

extern char** environ;

using namespace backrest;

namespace {

// How each command meets several repositories (worker/multi_repo.h): on each, on one, or the
// first that has what it reads.
template <cmd::RepoCommand Command>
int onEachRepo(const Config& config) {
    return cmd::runOnEachRepo(config, Command);
}
template <cmd::RepoCommand Command>
int onOneRepo(const Config& config) {
    return cmd::runOnOneRepo(config, Command);
}
// A segment is acknowledged only once every repository has it: no --repo, as in pgBackRest.
int archivePushEveryRepo(const Config& config) {
    if (config.find(opt::repo))
        raise(ErrorCode::Option,
              "option 'repo' is not accepted by archive-push: a segment is acknowledged only once "
              "every configured repository holds it; remove --repo");
    return cmd::runOnEachRepo(config, cmd::archivePush);
}
// backup: --repo=all is one run into every repository; else the one repository of defaultRepo.
int backupOneOrAll(const Config& config) {
    if (config.find(opt::repo) == "all") return cmd::backupAllRepos(config);
    return cmd::runOnOneRepo(config, cmd::backup);
}
int archiveGetFirstFound(const Config& config) {
    return cmd::archiveGetFromRepos(config, cmd::archiveGet);
}
int annotateWhereHeld(const Config& config) {
    return cmd::annotateInRepos(config, cmd::annotate);
}
int expireEveryOrWhereHeld(const Config& config) {
    return cmd::expireInRepos(config, cmd::expire);
}
int restoreFirstFound(const Config& config) {
    return cmd::restoreFromRepos(config, cmd::restore);
}

}  // namespace

// Every command by the name it is given on the command line.
const std::map<std::string, int (*)(const Config&)>& commandTable() {
    static const std::map<std::string, int (*)(const Config&)> commands = {
        {"stanza-create", onEachRepo<cmd::stanzaCreate>},
        {"stanza-rekey", onEachRepo<cmd::stanzaRekey>},
        {"check", onEachRepo<cmd::check>},
        {"backup", backupOneOrAll},
        {"restore", restoreFirstFound},
        {"drill", onOneRepo<cmd::drill>},  // restores from, and records in, one repository
        {"archive-push", archivePushEveryRepo},
        {"archive-get", archiveGetFirstFound},
        {"info", cmd::info},    // every repository, each labelled
        {"serve", cmd::serve},  // every repository (worker/serve.cpp)
        {"expire", expireEveryOrWhereHeld},
        {"verify", onEachRepo<cmd::verify>},
        {"annotate", annotateWhereHeld},
        {"help", cmd::help},
        {"version", cmd::version},
        {"repo-ls", onOneRepo<cmd::repoLs>},
        {"repo-get", onOneRepo<cmd::repoGet>},
        {"stop", cmd::stop},
        {"start", cmd::start},
        {"stanza-delete", onOneRepo<cmd::stanzaDelete>},  // one at a time, as pgBackRest
        {"stanza-upgrade", onEachRepo<cmd::stanzaUpgrade>},
        {"metrics", cmd::metrics},  // every repository, each its own series
    };
    return commands;
}

int main(int argc, char** argv) {
    const auto& commands = commandTable();
    // The spellings every Unix tool answers: --help and -h (for the command given, if any) and
    // --version.
    std::vector<const char*> args(argv, argv + argc);
    bool wantsHelp = false, wantsVersion = false;
    const char* command = nullptr;
    for (int i = 1; i < argc; i++) {
        std::string_view arg(argv[i]);
        wantsHelp = wantsHelp || arg == "--help" || arg == "-h";
        wantsVersion = wantsVersion || arg == "--version";
        if (!command && !arg.starts_with("-")) command = argv[i];
    }
    if (wantsHelp)
        args = command ? std::vector<const char*>{argv[0], "help", command}
                       : std::vector<const char*>{argv[0], "help"};
    else if (wantsVersion)
        args = {argv[0], "version"};
    argc = static_cast<int>(args.size());
    // archive-get is PostgreSQL's restore_command: any failure of it, even before the command body
    // runs (an unknown option, an unreadable config file), must stop recovery (error.h).
    // Any argument spelled so (not just the first word: "--stanza main archive-get" is valid).
    bool restoreCommand = false;
    for (int i = 1; i < argc && !wantsHelp && !wantsVersion; i++)
        restoreCommand = restoreCommand || std::string_view(args[i]) == "archive-get";
    auto exitWith = [&](int code) { return restoreCommand ? kArchiveGetAbortExit : code; };
    auto stopsRecovery = [&] {
        if (restoreCommand)
            std::fprintf(
                stderr,
                "ERROR: archive-get exits %d on purpose: PostgreSQL stops recovery instead of "
                "taking this failure for the end of the archived WAL and promoting with older "
                "data; fix the cause above, then start the server again to resume recovery\n",
                kArchiveGetAbortExit);
    };
    // The run's log file (log-path), opened once the options are known; help and version
    // write none, as in pgBackRest.
    std::optional<CommandLog> commandLog;
    auto ended = [&](int code, CommandLog::EndedBy endedBy) {
        if (commandLog) commandLog->end(code, endedBy);
        return code;
    };
    try {
        Config config = Config::parse(argc, args.data(), environ);
        setLogLevel(parseLogLevel(config.getString(opt::logLevelConsole)));
        auto it = commands.find(config.command());
        if (it == commands.end())
            raise(ErrorCode::Command, "unknown command '{}'; see 'backrest help'",
                  config.command());
        if (config.command() != "help" && config.command() != "version") commandLog.emplace(config);
        return ended(it->second(config), CommandLog::EndedBy::Return);
    } catch (const Error& e) {
        std::fprintf(stderr, "ERROR: %s\n", e.display().c_str());
        logFileWrite(LogLevel::Error, e.display());
        stopsRecovery();
        return ended(exitWith(e.exitCode()), CommandLog::EndedBy::Error);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ERROR: [%03d] AssertError: unexpected failure: %s\n",
                     static_cast<int>(ErrorCode::Assert), e.what());
        logFileWrite(LogLevel::Error, fmt::format("[{:03d}] AssertError: unexpected failure: {}",
                                                  static_cast<int>(ErrorCode::Assert), e.what()));
        stopsRecovery();
        return ended(exitWith(static_cast<int>(ErrorCode::Assert)), CommandLog::EndedBy::Error);
    }
}
