// Configuration: pgBackRest's option names, read from the command line, BACKREST_* environment
// variables (PGBACKREST_* in their absence) and INI config files, in that order of precedence.
//
//   backrest [--option=value ...] <command> [--option=value ...] [parameter ...]
//
// Config file: --config (default /etc/backrest/backrest.conf; a missing default file is not an
// error, a missing --config file is), then the *.conf files of --config-include-path (default
// /etc/backrest/conf.d; not read when only --config is given) in name order, all read as one
// file (config_file.h). Sections, most specific first:
//   [<stanza>:<command>]  [<stanza>]  [global:<command>]  [global]
// Environment: BACKREST_<OPTION> with '-' as '_' and upper case, e.g. BACKREST_REPO1_PATH;
// pgBackRest's PGBACKREST_<OPTION> when BACKREST_<OPTION> is absent (config_env.h).
// Boolean options also take --no-<option> and a bare --<option> meaning "y".
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/option_keys.h"

namespace backrest {

// Repositories: repo1-* .. repo4-* (pgBackRest's limit), one table row each, the others generated.
inline constexpr int kRepoMax = 4;

struct OptionDef {
    std::string_view name;
    OptionType type;
    // "= {}" lets the table omit fields with designated initializers under -Wextra.
    std::string_view defaultValue = {};  // empty: no default
    std::string_view allowed = {};       // for String: space-separated allowed values, empty = any
    std::string_view help = {};
    bool multi = false;  // may be given several times (e.g. tablespace-map)
    // For Integer and Size: accepted range, checked when parsing so a bad value fails before any
    // work.
    int64_t minValue = std::numeric_limits<int64_t>::min();
    int64_t maxValue = std::numeric_limits<int64_t>::max();
    // A key, secret or token: never passed on in arguments (passThroughArgs), where `ps` would
    // show it; and pgBackRest's PGBACKREST_ spelling of its environment variable is read too, as
    // credentials are often kept in the environment of a migrated host.
    bool secret = false;
    // The commands whose `help` lists the option, space-separated.
    std::string_view commands = {};
};

// A secret (a storage key, secret key, token, passphrase): refused on the command line, where
// every user on the host reads it in `ps`, never passed on to a child's arguments, never printed.
bool isSecretOption(std::string_view name);

// Every option backrest knows, with its default. Used for parsing and for `help`.
const std::vector<OptionDef>& optionDefs();
const OptionDef* findOptionDef(std::string_view name);
// The options `help <command>` lists, in table order.
std::vector<const OptionDef*> commandOptions(std::string_view command);

// Where a value came from, for `help`/debug output and error messages.
enum class OptionSource { Default, ConfigFile, Environment, CommandLine };

class Config {
  public:
    // Parses argv (argv[0] is the program). Throws OptionError / ConfigError / CommandError.
    // `environ` is the process environment ("NAME=value" strings, nullptr-terminated).
    static Config parse(int argc, const char* const* argv, const char* const* environ);

    const std::string& command() const { return command_; }
    const std::vector<std::string>& params() const { return params_; }

    // Typed reads, by the keys of option_keys.h (opt::processMax): the way code reads options.
    // Required getters: a missing value raises OptionError "option '<name>' is required ...".
    template <OptionType T>
    requires(T == OptionType::String || T == OptionType::Path) std::string
        getString(OptionKey<T> key)
    const { return getString(key.name); }
    int64_t getInt(OptionKey<OptionType::Integer> key) const { return getInt(key.name); }
    int64_t getInt(OptionKey<OptionType::Size> key) const { return getInt(key.name); }
    bool getBool(OptionKey<OptionType::Boolean> key) const { return getBool(key.name); }
    template <OptionType T>
    std::optional<std::string> find(OptionKey<T> key) const {
        return find(key.name);
    }
    template <OptionType T>
    std::vector<std::string> getMulti(OptionKey<T> key) const {
        return getMulti(key.name);
    }
    template <OptionType T>
    bool has(OptionKey<T> key) const {
        return has(key.name);
    }
    template <OptionType T>
    OptionSource source(OptionKey<T> key) const {
        return source(key.name);
    }
    template <OptionType T>
    void set(OptionKey<T> key, std::string value) {
        set(key.name, std::move(value));
    }

    // Deprecated: reads by name, checked only at run time (an undefined name raises AssertError).
    // Kept for names computed at run time and for code not yet moved to the keys
    // (scripts/use-option-keys.py moves it).
    bool has(std::string_view name) const;  // set by any source, or has a default
    std::string getString(std::string_view name) const;
    int64_t getInt(
        std::string_view name) const;  // also checks it is an integer (or size), naming option
    bool getBool(std::string_view name) const;  // y/n, true/false, on/off, 1/0
    std::optional<std::string> find(std::string_view name) const;
    std::vector<std::string> getMulti(std::string_view name) const;  // all values of a multi option
    OptionSource source(std::string_view name) const;

    // Sets a value as if from the command line (used by tests and by commands that derive one
    // command's options from another's, e.g. restore writing restore_command).
    void set(std::string_view name, std::string value);

    // The options given explicitly on the command line or in the environment, as
    // "--name=value" arguments, to pass on to a child command (restore_command).
    std::vector<std::string> passThroughArgs() const;

    // The repositories configured, in order: each index with a repoN-* option set by the command
    // line, the environment or a config file; repo1 alone when none is (its defaults).
    std::vector<int> repoIndexes() const;
    // The options as one repository's commands read them: repoN-* under the repo1-* names the
    // code reads (opt::repo1Path), the other repositories' options gone. passThroughArgs and
    // describeOptions still give the whole configuration (restore_command reaches every
    // repository).
    Config forRepo(int index) const;
    // 1..4 in a forRepo view; 0 in the whole configuration.
    int repoIndex() const { return repoIndex_; }
    // The whole configuration a forRepo view was taken from (itself when it is no view): what
    // a command passes on to another that reaches every repository (restore_command).
    Config whole() const;

    // Every option set by the command line, the environment or a config file, as
    // "--name=value", secrets as "--name=<redacted>": the log file's "command begin" line.
    std::vector<std::string> describeOptions() const;

  private:
    void refuseOutputForOtherCommand() const;

    struct Value {
        std::vector<std::string> values;
        OptionSource source = OptionSource::Default;
    };
    std::string command_;
    std::vector<std::string> params_;
    std::map<std::string, Value, std::less<>> values_;
    // A forRepo view: which repository, and the configuration it was taken from.
    int repoIndex_ = 0;
    std::shared_ptr<const std::map<std::string, Value, std::less<>>> whole_;
};

}  // namespace backrest
