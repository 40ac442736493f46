// Options from the environment: BACKREST_<OPTION>, and pgBackRest's PGBACKREST_<OPTION> read in
// its absence, as a migrated host keeps them in its cron lines and systemd units.
#pragma once

#include "common/option_value.h"

namespace backrest {

// Reads `envp` ("NAME=value" strings, nullptr-terminated) into `options`. BACKREST_X wins over
// PGBACKREST_X; both set to different values is an OptionError naming the two variables (never
// their values: they may be secrets). A variable naming no option of backrest is decided as a
// carried-over option (foreign_options.h): BACKREST_ ones raise when unknown, PGBACKREST_ ones
// that neither tool knows are warned about, as pgBackRest does.
void parseEnvironment(const char* const* envp, OptionValues& options);

}  // namespace backrest
