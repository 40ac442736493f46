// The version command's line: backrest's own, or pgBackRest's form for the monitoring written
// against pgBackRest (version-format=pgbackrest).
#pragma once

#include <string>
#include <string_view>

#include "common/config.h"

namespace backrest::cmd {

// The line `version` prints (without the newline). `format`: version-format (backrest,
// pgbackrest); `output`: text or num. json is refused, as pgBackRest refuses it.
std::string versionLine(std::string_view format, std::string_view output);
std::string versionLine(const Config& config);

}  // namespace backrest::cmd
