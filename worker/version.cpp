// version: what this binary is, as backrest (`backrest 0.1.0`) or, with
// version-format=pgbackrest, as the pgBackRest release it implements (`pgBackRest 2.45`), so that
// monitoring which refuses an "unsupported pgBackRest version" (check_pgbackrest) runs unchanged.
#include "worker/version.h"

#include <fmt/format.h>

#include "common/error.h"
#include "common/version.h"
#include "common/version_number.h"
#include "worker/commands.h"

namespace backrest::cmd {

std::string versionLine(std::string_view format, std::string_view output) {
    if (output != "text" && output != "num")
        raise(ErrorCode::Option,
              "invalid value '{}' for option 'output': version prints text or num", output);
    bool asPgBackRest = format == "pgbackrest";
    std::string_view release = asPgBackRest ? kPgBackRestVersion : kVersion;
    if (output == "num") return std::to_string(versionNumber(release));
    return fmt::format("{} {}", asPgBackRest ? "pgBackRest" : "backrest", release);
}

std::string versionLine(const Config& config) {
    return versionLine(config.getString(opt::versionFormat), config.getString(opt::output));
}

int version(const Config& config) {
    fmt::print("{}\n", versionLine(config));
    return 0;
}

}  // namespace backrest::cmd
