// The backrest binary: parses options, runs one command, and turns a typed error into its
// message on stderr and its code as exit status.
#include <cstdio>
#include <map>
#include <string>

#include "common/config.h"
#include "common/error.h"
#include "common/log.h"
#include "worker/commands.h"

extern char** environ;

using namespace backrest;

int main(int argc, char** argv) {
    static const std::map<std::string, int (*)(const Config&)> commands = {
        {"stanza-create", cmd::stanzaCreate}, {"check", cmd::check},
        {"backup", cmd::backup},              {"restore", cmd::restore},
        {"archive-push", cmd::archivePush},   {"archive-get", cmd::archiveGet},
        {"info", cmd::info},                  {"serve", cmd::serve},
        {"expire", cmd::expire},
        {"verify", cmd::verify},
        {"help", cmd::help},
        {"version", cmd::version},
    };
    try {
        Config config = Config::parse(argc, argv, environ);
        setLogLevel(parseLogLevel(config.getString("log-level-console")));
        auto it = commands.find(config.command());
        if (it == commands.end())
            raise(ErrorCode::Command, "unknown command '{}'; see 'backrest help'", config.command());
        return it->second(config);
    } catch (const Error& e) {
        std::fprintf(stderr, "ERROR: %s\n", e.display().c_str());
        return e.exitCode();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ERROR: [%03d] AssertError: unexpected failure: %s\n",
                     static_cast<int>(ErrorCode::Assert), e.what());
        return static_cast<int>(ErrorCode::Assert);
    }
}
