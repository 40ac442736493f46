// The option table as the parser and `help` use it: one OptionDef per row of option_table.h,
// where every option is defined.
#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <string>

#include "common/config.h"

namespace backrest {

namespace {

// Whether a space-separated list holds a word.
bool listHas(std::string_view list, std::string_view word) {
    while (!list.empty()) {
        size_t space = list.find(' ');
        if (list.substr(0, space) == word) return true;
        if (space == std::string_view::npos) break;
        list.remove_prefix(space + 1);
    }
    return false;
}

// repo2-* .. repo4-*: each repo1-* row again under the other indexes (pgBackRest's repository
// groups), with the same type, default, range and secrecy. Not listed by `help <command>` (the
// repo1 row stands for them all). Their names and help live as long as the table.
void addRepoGroupCopies(std::vector<OptionDef>& defs) {
    static std::deque<std::string> texts;
    size_t rows = defs.size();
    for (int index = 2; index <= kRepoMax; index++) {
        for (size_t i = 0; i < rows; i++) {
            if (!defs[i].name.starts_with("repo1-")) continue;
            OptionDef copy = defs[i];
            std::string_view rest = defs[i].name.substr(5);
            copy.name = texts.emplace_back(fmt::format("repo{}{}", index, rest));
            copy.help = texts.emplace_back(
                fmt::format("As repo1{}, for repository {} (--repo={}).", rest, index, index));
            copy.commands = {};
            defs.push_back(copy);
        }
    }
}

// Built once on first use and never modified: the only process-wide state in this module.
std::vector<OptionDef> buildOptionDefs() {
    std::vector<OptionDef> defs = {
#define BACKREST_OPTION_DEF(key, optionType, optionName, ...) \
    OptionDef{.name = optionName, .type = OptionType::optionType, __VA_ARGS__},
        BACKREST_OPTION_TABLE(BACKREST_OPTION_DEF)
#undef BACKREST_OPTION_DEF
    };
    addRepoGroupCopies(defs);
    return defs;
}

}  // namespace

const std::vector<OptionDef>& optionDefs() {
    static const std::vector<OptionDef> defs = buildOptionDefs();
    return defs;
}

const OptionDef* findOptionDef(std::string_view name) {
    // About two hundred names (repo2-4 copies included): a linear scan is as fast as a map and
    // needs no second structure.
    const auto& defs = optionDefs();
    auto it = std::find_if(defs.begin(), defs.end(),
                           [name](const OptionDef& def) { return def.name == name; });
    return it == defs.end() ? nullptr : &*it;
}

std::vector<const OptionDef*> commandOptions(std::string_view command) {
    std::vector<const OptionDef*> options;
    for (const OptionDef& def : optionDefs())
        if (listHas(def.commands, command)) options.push_back(&def);
    return options;
}

}  // namespace backrest
