// Options from the environment, in both spellings, with BACKREST_ first.
#include "common/config_env.h"

#include <string_view>

#include "common/error.h"
#include "common/foreign_options.h"
#include "common/log.h"

namespace backrest {

namespace {

constexpr std::string_view kPrefix = "BACKREST_";
constexpr std::string_view kPgBackRestPrefix = "PGBACKREST_";

// The values of one variable: several for a multi option, colon-separated (pgBackRest's rule).
std::vector<std::string> valuesOf(const OptionDef& def, std::string_view value,
                                  std::string_view origin) {
    std::vector<std::string> values;
    if (!def.multi) {
        values.push_back(normalizeOptionValue(def, value, origin));
        return values;
    }
    for (size_t start = 0;;) {
        size_t colon = value.find(':', start);
        values.push_back(normalizeOptionValue(def, value.substr(start, colon - start), origin));
        if (colon == std::string_view::npos) break;
        start = colon + 1;
    }
    return values;
}

// Calls visit(variable, value) for each "PREFIX...=value" entry of the environment.
template <typename Visit>
void forEachWithPrefix(const char* const* envp, std::string_view prefix, Visit visit) {
    for (; envp != nullptr && *envp != nullptr; ++envp) {
        std::string_view entry = *envp;
        size_t eq = entry.find('=');
        if (!entry.starts_with(prefix) || eq == std::string_view::npos) continue;
        visit(entry.substr(0, eq), entry.substr(eq + 1));
    }
}

}  // namespace

void parseEnvironment(const char* const* envp, OptionValues& options) {
    forEachWithPrefix(envp, kPrefix, [&](std::string_view var, std::string_view value) {
        std::string name = optionNameOfVariable(var.substr(kPrefix.size()));
        std::string origin = fmt::format("environment variable {}", var);
        const OptionDef* def = findOptionDef(name);
        if (def == nullptr) {
            checkForeignOption(name, value, origin);
            return;
        }
        if (options.contains(def->name)) return;  // first one wins, as with getenv()
        options[std::string(def->name)] = valuesOf(*def, value, origin);
    });

    OptionValues fromBackrest = options;
    OptionValues fromPgBackRest;
    forEachWithPrefix(envp, kPgBackRestPrefix, [&](std::string_view var, std::string_view value) {
        std::string name = optionNameOfVariable(var.substr(kPgBackRestPrefix.size()));
        std::string origin = fmt::format("environment variable {}", var);
        const OptionDef* def = findOptionDef(name);
        if (def == nullptr) {
            if (isPgBackRestOnlyOption(name))
                checkForeignOption(name, value, origin);
            else
                logWarn(
                    "ignoring environment variable {}: '{}' is no option of backrest or "
                    "pgBackRest",
                    var, name);
            return;
        }
        if (fromPgBackRest.contains(def->name)) return;
        auto values = valuesOf(*def, value, origin);
        if (auto ours = fromBackrest.find(def->name); ours != fromBackrest.end()) {
            // The same setting twice is harmless; two settings leave no way to know which is meant.
            if (ours->second != values)
                raise(ErrorCode::Option,
                      "environment variables {} and {} both set option '{}', to different "
                      "values: unset one (backrest reads {} first, pgBackRest's spelling only in "
                      "its absence)",
                      variableOfOption(kPrefix, def->name), var, def->name,
                      variableOfOption(kPrefix, def->name));
            return;
        }
        fromPgBackRest[std::string(def->name)] = values;
        options[std::string(def->name)] = std::move(values);
    });
}

}  // namespace backrest
