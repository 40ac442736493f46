// The option table as the parser and `help` use it: one OptionDef per row of option_table.h,
// where every option is defined.
#include <algorithm>

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

// Built once on first use and never modified: the only process-wide state in this module.
std::vector<OptionDef> buildOptionDefs() {
    return {
#define BACKREST_OPTION_DEF(key, optionType, optionName, ...) \
    OptionDef{.name = optionName, .type = OptionType::optionType, __VA_ARGS__},
        BACKREST_OPTION_TABLE(BACKREST_OPTION_DEF)
#undef BACKREST_OPTION_DEF
    };
}

}  // namespace

const std::vector<OptionDef>& optionDefs() {
    static const std::vector<OptionDef> defs = buildOptionDefs();
    return defs;
}

const OptionDef* findOptionDef(std::string_view name) {
    // About eighty options: a linear scan is as fast as a map and needs no second structure.
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
