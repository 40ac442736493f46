// Config parsing: merges the command line, the environment (config_env.h) and the config files
// (config_file.h) by pgBackRest's precedence rules, validating every value as soon as it is read.
#include "common/config.h"

#include <utility>

#include "common/config_env.h"
#include "common/config_file.h"
#include "common/error.h"
#include "common/foreign_options.h"
#include "common/option_value.h"

namespace backrest {

namespace {

constexpr std::string_view kEnvPrefix = "BACKREST_";

std::string envName(std::string_view option) {
    return variableOfOption(kEnvPrefix, option);
}

std::string normalize(const OptionDef& def, std::string_view value, std::string_view origin) {
    return normalizeOptionValue(def, value, origin);
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
            if (negated != nullptr &&
                (negated->type == OptionType::Boolean || isFlagChoice(*negated))) {
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
            if (def->type == OptionType::Boolean || isFlagChoice(*def)) {
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
        raise(ErrorCode::Option,
              "option '{}' is a secret and is not accepted on the command line, where any user of "
              "this host can read "
              "it (ps): put it in the config file (readable only by its owner) or the environment "
              "variable {}",
              name, envName(name));
    }
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

    // The stanza and the config file paths select what is read from the files, so they can
    // only come from the command line or the environment.
    std::string stanza = config.find(opt::stanza).value_or("");
    ConfigFileSet files{.path = config.getString(opt::config),
                        .pathGiven = config.values_.contains(opt::config.name),
                        .includePath = config.getString(opt::configIncludePath),
                        .includePathGiven = config.values_.contains(opt::configIncludePath.name)};

    std::vector<std::string> sections;
    if (!stanza.empty()) {
        sections.push_back(stanza + ":" + config.command_);
        sections.push_back(stanza);
    }
    sections.push_back("global:" + config.command_);
    sections.push_back("global");

    auto entries = readConfigFiles(files);
    // After the values are checked: a carried-over aes-256-cbc is named first, as the bigger issue.
    auto resolved = resolveConfigFiles(entries, sections);
    refuseReadableCipherPass(entries);
    for (auto& [name, values] : resolved) {
        config.values_.try_emplace(name, Value{std::move(values), OptionSource::ConfigFile});
    }
    config.refuseOutputForOtherCommand();
    return config;
}

// pgBackRest's version --output=num shares the option with info's text and json: num alone means
// nothing to another command, which would otherwise print text as if it had not been asked.
void Config::refuseOutputForOtherCommand() const {
    if (command_ == "version" || find(opt::output) != "num") return;
    raise(ErrorCode::Option,
          "invalid value 'num' for option 'output': only the version command prints a number; "
          "{} takes text or json",
          command_);
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

namespace {

// "repo2-path" -> 2; 0 for an option of no repository ("repo" itself included).
int repoIndexOf(std::string_view name) {
    if (name.size() < 7 || !name.starts_with("repo") || name[5] != '-') return 0;
    int index = name[4] - '0';
    return index >= 1 && index <= kRepoMax ? index : 0;
}

}  // namespace

std::vector<int> Config::repoIndexes() const {
    std::vector<int> indexes;
    for (int index = 1; index <= kRepoMax; index++) {
        for (const auto& [name, value] : values_) {
            if (repoIndexOf(name) != index || value.source == OptionSource::Default) continue;
            indexes.push_back(index);
            break;
        }
    }
    if (indexes.empty()) indexes.push_back(1);
    return indexes;
}

Config Config::forRepo(int index) const {
    if (index < 1 || index > kRepoMax)
        raise(ErrorCode::Assert, "repository index {} out of 1..{}", index, kRepoMax);
    Config view;
    view.command_ = command_;
    view.params_ = params_;
    view.repoIndex_ = index;
    view.whole_ = whole_ ? whole_ : std::make_shared<const decltype(values_)>(values_);
    for (const auto& [name, value] : *view.whole_) {
        int of = repoIndexOf(name);
        if (of == 0)
            view.values_.emplace(name, value);
        else if (of == index)
            view.values_.emplace("repo1" + name.substr(5), value);
    }
    return view;
}

Config Config::whole() const {
    if (!whole_) return *this;
    Config all;
    all.command_ = command_;
    all.params_ = params_;
    all.values_ = *whole_;
    return all;
}

std::vector<std::string> Config::passThroughArgs() const {
    std::vector<std::string> args;
    for (const auto& [name, value] :
         whole_ ? *whole_ : values_) {  // std::map: sorted by name, so stable
        if (value.source != OptionSource::CommandLine && value.source != OptionSource::Environment)
            continue;
        // A child reads a secret from the config file, as its parent did: on its command line
        // every user would see it.
        if (isSecretOption(name)) continue;
        for (const auto& v : value.values) args.push_back(fmt::format("--{}={}", name, v));
    }
    return args;
}

std::vector<std::string> Config::describeOptions() const {
    std::vector<std::string> described;
    for (const auto& [name, value] : whole_ ? *whole_ : values_) {
        for (const auto& v : value.values)
            described.push_back(
                fmt::format("--{}={}", name, isSecretOption(name) ? "<redacted>" : v));
    }
    return described;
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
