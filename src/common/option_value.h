// Option values as text: the parsing of booleans, integers and sizes (with pgBackRest's units),
// and the check of one value against its option's row, shared by every source of options.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.h"

namespace backrest {

// Option name -> its values (several for a multi option), as one source gives them.
using OptionValues = std::map<std::string, std::vector<std::string>, std::less<>>;

std::optional<bool> parseBool(std::string_view value);    // y/n, true/false, on/off, 1/0, yes/no
std::optional<int64_t> parseInt(std::string_view value);  // decimal, optional '-', nothing else

// pgBackRest's sizes: a number of bytes, or a number followed by a unit, case-insensitive:
// b; k, kb, kib; m, mb, mib; g, gb, gib; t, tb, tib; p, pb, pib, all powers of 1024 as in
// pgBackRest ("1KB" is 1024 bytes there too). nullopt for anything else, or beyond int64.
std::optional<int64_t> parseSize(std::string_view value);

// The option name an environment variable sets, without its prefix: REPO1_PATH -> repo1-path.
std::string optionNameOfVariable(std::string_view suffix);
// The variable that sets an option: ("BACKREST_", repo1-path) -> BACKREST_REPO1_PATH.
std::string variableOfOption(std::string_view prefix, std::string_view option);

// A choice that extends a pgBackRest boolean (backup-standby: n y prefer): given alone it means y,
// --no-<name> means n, and y/n's other spellings (true, off, ...) are accepted, as for a boolean.
bool isFlagChoice(const OptionDef& def);

// Checks a value against the option's type, allowed list and range and returns the stored form
// (booleans become "y"/"n", sizes a number of bytes), so getters and passThroughArgs see one
// spelling. Raises OptionError naming the option, the value and `origin` (where it was set).
std::string normalizeOptionValue(const OptionDef& def, std::string_view value,
                                 std::string_view origin);

}  // namespace backrest
