// Config parsing: merges the command line, BACKREST_* environment variables and the INI config
// file by pgBackRest's precedence rules, validating every value as soon as it is read.
#include "common/config.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <tuple>
#include <utility>

#include "common/error.h"
#include "common/foreign_options.h"
#include "common/log.h"

namespace backrest {

namespace {

constexpr std::string_view kEnvPrefix = "BACKREST_";

using OptionValues = std::map<std::string, std::vector<std::string>, std::less<>>;

std::string_view trim(std::string_view s) {
    auto space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
    while (!s.empty() && space(s.front())) s.remove_prefix(1);
    while (!s.empty() && space(s.back())) s.remove_suffix(1);
    return s;
}

int upper(int c) {
    return std::toupper(c);
}
int lower(int c) {
    return std::tolower(c);
}

// repo1-path <-> REPO1_PATH: the environment spelling of an option name and back.
std::string translate(std::string_view s, char from, char to, int (*changeCase)(int)) {
    std::string out;
    for (char c : s) {
        out += c == from ? to : static_cast<char>(changeCase(static_cast<unsigned char>(c)));
    }
    return out;
}

std::string envName(std::string_view option) {
    return std::string(kEnvPrefix) + translate(option, '-', '_', upper);
}

std::optional<bool> parseBool(std::string_view value) {
    std::string v = translate(value, '\0', '\0', lower);
    if (v == "y" || v == "yes" || v == "true" || v == "on" || v == "1") return true;
    if (v == "n" || v == "no" || v == "false" || v == "off" || v == "0") return false;
    return std::nullopt;
}

std::optional<int64_t> parseInt(std::string_view value) {
    int64_t result = 0;
    const char* end = value.data() + value.size();
    auto [ptr, ec] = std::from_chars(value.data(), end, result);
    if (value.empty() || ec != std::errc() || ptr != end) return std::nullopt;
    return result;
}

// "8MiB" -> 8388608; a plain number is bytes. Units are powers of 1024, case-insensitive.
std::optional<int64_t> parseSize(std::string_view value) {
    size_t digits = 0;
    while (digits < value.size() && value[digits] >= '0' && value[digits] <= '9') digits++;
    auto number = parseInt(value.substr(0, digits));
    if (!number) return std::nullopt;
    std::string unit;
    for (char c : value.substr(digits))
        unit.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    int shift = -1;
    if (unit.empty() || unit == "b")
        shift = 0;
    else if (unit == "k" || unit == "kb" || unit == "kib")
        shift = 10;
    else if (unit == "m" || unit == "mb" || unit == "mib")
        shift = 20;
    else if (unit == "g" || unit == "gb" || unit == "gib")
        shift = 30;
    if (shift < 0 || *number > (std::numeric_limits<int64_t>::max() >> shift)) return std::nullopt;
    return *number << shift;
}

bool isAllowed(std::string_view allowed, std::string_view value) {
    while (!allowed.empty()) {
        size_t space = allowed.find(' ');
        if (allowed.substr(0, space) == value) return true;
        if (space == std::string_view::npos) break;
        allowed.remove_prefix(space + 1);
    }
    return false;
}

std::string allowedList(std::string_view allowed) {
    std::string list(allowed);
    for (size_t pos = 0; (pos = list.find(' ', pos)) != std::string::npos; pos += 2) {
        list.replace(pos, 1, ", ");
    }
    return list;
}

[[noreturn]] void raiseInvalid(const OptionDef& def, std::string_view value,
                               std::string_view origin, std::string_view expected) {
    raise(ErrorCode::Option, "invalid value '{}' for option '{}' (from {}): {}", value, def.name,
          origin, expected);
}

// Checks a value against the option's type, allowed list and range; returns the stored form
// (booleans become "y"/"n" so getters and passThroughArgs see one spelling).
std::string normalize(const OptionDef& def, std::string_view value, std::string_view origin) {
    switch (def.type) {
        case OptionType::Boolean: {
            auto b = parseBool(value);
            if (!b) {
                raiseInvalid(def, value, origin, "expected y or n (or true/false, on/off, 1/0)");
            }
            return *b ? "y" : "n";
        }
        case OptionType::Integer: {
            auto n = parseInt(value);
            if (!n) raiseInvalid(def, value, origin, "expected an integer");
            if (*n < def.minValue || *n > def.maxValue) {
                raiseInvalid(
                    def, value, origin,
                    fmt::format("expected an integer from {} to {}", def.minValue, def.maxValue));
            }
            return std::string(value);
        }
        case OptionType::Size: {
            auto n = parseSize(value);
            if (!n)
                raiseInvalid(def, value, origin,
                             "expected a size such as 2MiB, 512KiB or a number of bytes");
            if (*n < def.minValue || *n > def.maxValue)
                raiseInvalid(
                    def, value, origin,
                    fmt::format("expected a size from {} to {} bytes", def.minValue, def.maxValue));
            return std::to_string(*n);
        }
        case OptionType::String:
        case OptionType::Path:
            if (value.empty()) raiseInvalid(def, value, origin, "expected a non-empty value");
            if (def.name.ends_with("cipher-type") && value == "aes-256-cbc")
                raise(ErrorCode::Option,
                      "option '{}' (from {}) is aes-256-cbc, pgBackRest's unauthenticated cipher: "
                      "backrest encrypts with authenticated AES-256-GCM only, and cannot read a "
                      "pgBackRest repository anyway; set {}=aes-256-gcm (with repo1-cipher-pass) "
                      "for a new backrest repository, never a plaintext one",
                      def.name, origin, def.name);
            if (!def.allowed.empty() && !isAllowed(def.allowed, value)) {
                raiseInvalid(def, value, origin,
                             fmt::format("expected one of {}", allowedList(def.allowed)));
            }
            return std::string(value);
    }
    return std::string(value);
}

// Getters name options in code, so an unknown name is a programming error, not a user error.
const OptionDef& knownDef(std::string_view name) {
    const OptionDef* def = findOptionDef(name);
    if (def == nullptr) raise(ErrorCode::Assert, "option '{}' is not defined", name);
    return *def;
}

void parseCommandLine(int argc, const char* const* argv, std::string& command,
                      std::vector<std::string>& params, OptionValues& options) {
    bool optionsEnded = false;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (optionsEnded || !arg.starts_with("--")) {
            if (command.empty()) {
                command = arg;
            } else {
                params.emplace_back(arg);
            }
            continue;
        }
        if (arg == "--") {
            optionsEnded = true;
            continue;
        }
        std::string_view body = arg.substr(2);
        size_t eq = body.find('=');
        std::string_view name = body.substr(0, eq);
        std::optional<std::string> value;
        if (eq != std::string_view::npos) value = std::string(body.substr(eq + 1));

        const OptionDef* def = findOptionDef(name);
        if (def == nullptr && name.starts_with("no-")) {
            const OptionDef* negated = findOptionDef(name.substr(3));
            if (negated != nullptr && negated->type == OptionType::Boolean) {
                if (value) raise(ErrorCode::Option, "option '--{}' does not take a value", name);
                def = negated;
                value = "n";
            }
        }
        if (def == nullptr) {
            // A pgBackRest option backrest does not implement: a harmless one is skipped (with a
            // warning), any other raises. Without "=value" it is a flag ("--no-x": n): taking the
            // next argument could swallow the command.
            bool negated = !value && name.starts_with("no-") && isForeignOption(name.substr(3));
            checkForeignOption(negated ? name.substr(3) : name,
                               value     ? *value
                               : negated ? "n"
                                         : "y",
                               "command line");
            continue;
        }
        if (!value) {
            // "--name value": a following "--..." is more likely a forgotten value than a value.
            if (def->type == OptionType::Boolean) {
                value = "y";
            } else if (i + 1 < argc && !std::string_view(argv[i + 1]).starts_with("--")) {
                value = argv[++i];
            } else {
                raise(ErrorCode::Option, "option '--{}' requires a value", def->name);
            }
        }
        auto& values = options[std::string(def->name)];
        if (!values.empty() && !def->multi) {
            raise(ErrorCode::Option, "option '--{}' is given more than once on the command line",
                  def->name);
        }
        values.push_back(normalize(*def, *value, "command line"));
    }
}

// A secret on the command line is refused (as pgBackRest does): `ps` shows it to every user.
void refuseSecretsOnCommandLine(const OptionValues& cli) {
    for (const auto& [name, values] : cli) {
        if (!isSecretOption(name)) continue;
        std::string var(name);
        for (auto& c : var)
            c = c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        raise(ErrorCode::Option,
              "option '{}' is a secret and is not accepted on the command line, where any user of "
              "this host can read "
              "it (ps): put it in the config file (readable only by its owner) or the environment "
              "variable {}{}",
              name, kEnvPrefix, var);
    }
}

void parseEnvironment(const char* const* envp, OptionValues& options) {
    for (; envp != nullptr && *envp != nullptr; ++envp) {
        std::string_view entry = *envp;
        size_t eq = entry.find('=');
        // pgBackRest's spelling, left from a migration: backrest does not read it, so one that
        // would set where data goes, what is kept or how it is protected must not pass unseen.
        if (entry.starts_with("PGBACKREST_") && eq != std::string_view::npos) {
            std::string var(entry.substr(0, eq));
            std::string name = translate(var.substr(11), '_', '-', lower);
            if (findOptionDef(name) || (isForeignOption(name) && !isHarmlessForeignOption(name)))
                raise(ErrorCode::Option,
                      "environment variable {} is pgBackRest's spelling, which backrest does not "
                      "read: rename it "
                      "{}{} (or unset it) so that option '{}' is not silently left out",
                      var, kEnvPrefix, var.substr(11), name);
            continue;
        }
        if (!entry.starts_with(kEnvPrefix) || eq == std::string_view::npos) continue;
        std::string_view var = entry.substr(0, eq);
        std::string_view value = entry.substr(eq + 1);
        std::string name = translate(var.substr(kEnvPrefix.size()), '_', '-', lower);
        const OptionDef* def = findOptionDef(name);
        if (def == nullptr) {
            checkForeignOption(name, value, fmt::format("environment variable {}", var));
            continue;
        }
        if (options.contains(def->name)) continue;  // first one wins, as with getenv()
        std::string origin = fmt::format("environment variable {}", var);
        auto& values = options[std::string(def->name)];
        if (!def->multi) {
            values.push_back(normalize(*def, value, origin));
            continue;
        }
        // pgBackRest's convention for repeatable options in the environment: colon-separated.
        for (size_t start = 0;;) {
            size_t colon = value.find(':', start);
            values.push_back(normalize(*def, value.substr(start, colon - start), origin));
            if (colon == std::string_view::npos) break;
            start = colon + 1;
        }
    }
}

struct IniEntry {
    std::string section;
    std::string key;
    std::string value;
    int line;
};

// A passphrase of an encrypted repository in a file every user of the host reads protects
// nothing: refused (not warned about, a warning scrolls by). Group-readable is allowed: the
// 0640 root:postgres pattern of pgBackRest's /etc/pgbackrest.conf.
void refuseReadableCipherPass(const std::string& path, const std::vector<IniEntry>& entries) {
    bool holdsPass = std::any_of(entries.begin(), entries.end(), [](const IniEntry& e) {
        return isSecretOption(e.key) && e.key.find("cipher-pass") != std::string::npos;
    });
    if (!holdsPass) return;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        raise(ErrorCode::Config, "unable to stat config file '{}': {}", path, std::strerror(errno));
    if ((st.st_mode & 0007) == 0) return;
    raise(ErrorCode::Config,
          "config file '{}' holds a repository passphrase (cipher-pass) but has mode {:04o}, "
          "readable by every user of this host: run 'chmod 640 {}' (or 600)",
          path, st.st_mode & 07777, path);
}

// Reads the whole file so a malformed line anywhere is reported, even in unused sections.
std::vector<IniEntry> readIni(const std::string& path, bool explicitPath) {
    std::error_code ec;
    auto status = std::filesystem::status(path, ec);
    if (status.type() == std::filesystem::file_type::not_found) {
        if (!explicitPath) return {};
        raise(ErrorCode::Config, "config file '{}' does not exist", path);
    }
    if (std::filesystem::is_directory(status)) {
        raise(ErrorCode::Config, "config file '{}' is a directory", path);
    }
    std::ifstream in(path);
    if (!in) {
        raise(ErrorCode::Config, "unable to open config file '{}': {}", path, std::strerror(errno));
    }

    std::vector<IniEntry> entries;
    std::string section;
    std::string raw;
    for (int lineNo = 1; std::getline(in, raw); ++lineNo) {
        std::string_view line = trim(raw);
        if (line.empty() || line.front() == '#' || line.front() == ';') continue;
        if (line.front() == '[') {
            if (line.back() != ']' || trim(line.substr(1, line.size() - 2)).empty()) {
                raise(ErrorCode::Config, "config file '{}' line {}: malformed section header", path,
                      lineNo);
            }
            section = trim(line.substr(1, line.size() - 2));
            continue;
        }
        // The line itself is not quoted in errors: it may hold a password.
        size_t eq = line.find('=');
        if (eq == std::string_view::npos) {
            raise(ErrorCode::Config,
                  "config file '{}' line {}: expected 'key=value', '[section]' or a comment", path,
                  lineNo);
        }
        std::string_view key = trim(line.substr(0, eq));
        if (key.empty()) {
            raise(ErrorCode::Config, "config file '{}' line {}: missing option name before '='",
                  path, lineNo);
        }
        if (section.empty()) {
            raise(ErrorCode::Config, "config file '{}' line {}: option '{}' before any [section]",
                  path, lineNo, key);
        }
        entries.push_back(
            {section, std::string(key), std::string(trim(line.substr(eq + 1))), lineNo});
    }
    if (in.bad()) {
        raise(ErrorCode::Config, "unable to read config file '{}': {}", path, std::strerror(errno));
    }
    return entries;
}

// Picks, for each option, the values of the most specific consulted section that sets it.
OptionValues resolveIni(const std::vector<IniEntry>& entries, const std::string& path,
                        const std::vector<std::string>& sections) {
    struct Chosen {
        size_t rank;
        std::vector<std::string> values;
    };
    std::map<std::string, Chosen, std::less<>> chosen;
    std::map<std::pair<std::string, size_t>, int> firstLine;  // (option, section) -> line
    std::set<std::string, std::less<>> warned;
    std::string origin = fmt::format("config file {}", path);

    for (const IniEntry& e : entries) {
        auto section = std::find(sections.begin(), sections.end(), e.section);
        if (section == sections.end()) continue;
        size_t rank = static_cast<size_t>(section - sections.begin());

        const OptionDef* def = findOptionDef(e.key);
        if (def == nullptr) {
            // Files copied from pgBackRest carry options backrest does not implement: only the
            // harmless ones are skipped; one that changes what is stored or kept raises.
            if (warned.insert(e.key).second)
                checkForeignOption(e.key, e.value,
                                   fmt::format("config file '{}' line {}", path, e.line));
            continue;
        }
        if (def->name == "stanza" || def->name == "config") {
            if (warned.insert(e.key).second)
                logWarn(
                    "config file '{}' line {}: ignoring option '{}' (only allowed on the command "
                    "line or in "
                    "the environment)",
                    path, e.line, e.key);
            continue;
        }
        std::string value = normalize(*def, e.value, origin);
        auto [first, isFirst] = firstLine.try_emplace({e.key, rank}, e.line);
        if (!isFirst && !def->multi) {
            raise(ErrorCode::Config,
                  "config file '{}' line {}: option '{}' is set more than once in section [{}] "
                  "(first on line {})",
                  path, e.line, e.key, e.section, first->second);
        }
        auto [it, inserted] = chosen.try_emplace(e.key, Chosen{rank, {}});
        if (rank > it->second.rank) continue;
        if (rank < it->second.rank) it->second = Chosen{rank, {}};
        it->second.values.push_back(std::move(value));
    }

    OptionValues result;
    for (auto& [name, c] : chosen) result.emplace(name, std::move(c.values));
    return result;
}

}  // namespace

Config Config::parse(int argc, const char* const* argv, const char* const* environ) {
    Config config;
    OptionValues cli;
    OptionValues env;
    parseCommandLine(argc, argv, config.command_, config.params_, cli);
    refuseSecretsOnCommandLine(cli);
    if (config.command_.empty()) {
        raise(ErrorCode::Command, "no command given; see 'backrest help'");
    }
    parseEnvironment(environ, env);

    for (auto& [name, values] : cli) {
        config.values_[name] = Value{std::move(values), OptionSource::CommandLine};
    }
    for (auto& [name, values] : env) {
        config.values_.try_emplace(name, Value{std::move(values), OptionSource::Environment});
    }

    // The stanza and the config file path select what is read from the file, so they can
    // only come from the command line or the environment.
    std::string stanza = config.find(opt::stanza).value_or("");
    auto given = config.values_.find("config");
    bool explicitPath = given != config.values_.end();
    std::string path =
        explicitPath ? given->second.values.front() : std::string(knownDef("config").defaultValue);

    std::vector<std::string> sections;
    if (!stanza.empty()) {
        sections.push_back(stanza + ":" + config.command_);
        sections.push_back(stanza);
    }
    sections.push_back("global:" + config.command_);
    sections.push_back("global");

    auto entries = readIni(path, explicitPath);
    // After the values are checked: a carried-over aes-256-cbc is named first, as the bigger issue.
    auto resolved = resolveIni(entries, path, sections);
    refuseReadableCipherPass(path, entries);
    for (auto& [name, values] : resolved) {
        config.values_.try_emplace(name, Value{std::move(values), OptionSource::ConfigFile});
    }
    return config;
}

bool Config::has(std::string_view name) const {
    const OptionDef& def = knownDef(name);
    return values_.contains(name) || !def.defaultValue.empty();
}

std::string Config::getString(std::string_view name) const {
    if (auto value = find(name)) return *value;
    const OptionDef& def = knownDef(name);
    std::string where = command_.empty() ? "" : fmt::format(" for command '{}'", command_);
    raise(ErrorCode::Option,
          "option '{}' is required{}; set it with --{}, {} or in the config file", def.name, where,
          def.name, envName(def.name));
}

int64_t Config::getInt(std::string_view name) const {
    const OptionDef& def = knownDef(name);
    if (def.type != OptionType::Integer && def.type != OptionType::Size) {
        raise(ErrorCode::Assert, "option '{}' is not an integer option", name);
    }
    // Every stored value passed normalize() and the table's defaults are tested, so it parses.
    if (def.type == OptionType::Size)
        return parseSize(getString(name)).value();  // a default keeps its unit
    return parseInt(getString(name)).value();
}

bool Config::getBool(std::string_view name) const {
    const OptionDef& def = knownDef(name);
    if (def.type != OptionType::Boolean) {
        raise(ErrorCode::Assert, "option '{}' is not a boolean option", name);
    }
    return parseBool(getString(name)).value();  // validated like getInt's values
}

std::optional<std::string> Config::find(std::string_view name) const {
    const OptionDef& def = knownDef(name);
    if (def.multi) {
        raise(ErrorCode::Assert, "option '{}' may have several values; read it with getMulti",
              name);
    }
    if (auto it = values_.find(name); it != values_.end()) return it->second.values.front();
    if (!def.defaultValue.empty()) return std::string(def.defaultValue);
    return std::nullopt;
}

std::vector<std::string> Config::getMulti(std::string_view name) const {
    const OptionDef& def = knownDef(name);
    if (auto it = values_.find(name); it != values_.end()) return it->second.values;
    if (!def.defaultValue.empty()) return {std::string(def.defaultValue)};
    return {};
}

OptionSource Config::source(std::string_view name) const {
    knownDef(name);
    auto it = values_.find(name);
    return it == values_.end() ? OptionSource::Default : it->second.source;
}

void Config::set(std::string_view name, std::string value) {
    const OptionDef& def = knownDef(name);
    // Replaces all values, also of a multi option: the caller states the complete setting.
    values_[std::string(def.name)] =
        Value{{normalize(def, value, "command line")}, OptionSource::CommandLine};
}

std::vector<std::string> Config::passThroughArgs() const {
    std::vector<std::string> args;
    for (const auto& [name, value] : values_) {  // std::map: sorted by name, so stable
        if (value.source != OptionSource::CommandLine && value.source != OptionSource::Environment)
            continue;
        // A child reads a secret from the config file, as its parent did: on its command line
        // every user would see it.
        if (isSecretOption(name)) continue;
        for (const auto& v : value.values) args.push_back(fmt::format("--{}={}", name, v));
    }
    return args;
}

bool isSecretOption(std::string_view name) {
    // An option of the table says so there; the list below is for the names of pgBackRest's
    // options backrest does not implement (repo2-s3-key, repo1-gcs-key, ...), refused alike.
    if (const OptionDef* def = findOptionDef(name)) return def->secret;
    // repo<N>-<rest>: the same secrets for every repository.
    if (name.starts_with("repo")) {
        size_t i = 4;
        while (i < name.size() && name[i] >= '0' && name[i] <= '9') ++i;
        if (i > 4 && i < name.size() && name[i] == '-')
            name.remove_prefix(i + 1);
        else if (i == 4 && i < name.size() && name[i] == '-')
            name.remove_prefix(5);
    }
    static constexpr std::string_view kSecrets[] = {
        "s3-key",      "s3-key-secret",   "s3-token",
        "azure-key",   "gcs-key",         "sftp-private-key-passphrase",
        "cipher-pass", "cipher-pass-new", "host-key-passphrase"};
    for (auto s : kSecrets)
        if (name == s) return true;
    return false;
}

}  // namespace backrest
