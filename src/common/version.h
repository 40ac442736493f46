// The backrest release, recorded in every manifest, and the pgBackRest release it answers to.
#pragma once

namespace backrest {
inline constexpr const char* kVersion = "0.1.0";
// The pgBackRest release whose commands, options and info JSON backrest implements (issue 20):
// what `version` prints with version-format=pgbackrest, for monitoring that gates on pgBackRest's
// version (check_pgbackrest refuses anything below 2.33). Raise it only with what it promises.
inline constexpr const char* kPgBackRestVersion = "2.45";
}  // namespace backrest
