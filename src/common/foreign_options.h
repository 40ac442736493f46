// pgBackRest options that backrest does not implement. A pgbackrest.conf carried over must never
// lose silently an option that changes where data goes, what is kept or how it is protected
// (a carried-over repo1-cipher-pass once gave a plaintext repository): those are errors naming
// the option; only options documented here as harmless are ignored with a warning.
#pragma once

#include <string_view>

namespace backrest {

// Decides about an option name that is not in backrest's own table (optionDefs()), given where
// it came from ("config file /etc/backrest/backrest.conf line 4", "command line", "environment
// variable BACKREST_X"). Returns normally when the option may be ignored (a harmless pgBackRest
// option, warned about; or one set to the value that means what backrest does anyway). Raises
// OptionError otherwise: a pgBackRest option backrest does not support yet (saying what it would
// have changed), an index other than 1 (repo2-*, pg2-*), or a name neither tool knows.
void checkForeignOption(std::string_view name, std::string_view value, std::string_view origin);

// True for a pgBackRest option backrest does not implement, at any index (repo2-host too).
bool isForeignOption(std::string_view name);
// True for those, and for any option of another repository or cluster than 1 (repo2-path).
bool isPgBackRestOnlyOption(std::string_view name);

}  // namespace backrest
