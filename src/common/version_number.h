// A release as one number, pgBackRest's `version --output=num` form (2.45 -> 2045000), which
// monitoring (pgbackrest_exporter) compares numerically.
#pragma once

#include <cstdint>
#include <string_view>

namespace backrest {

// major * 1000000 + minor * 1000 + patch; a missing part counts 0 and a suffix ("dev") ends the
// number. Each part must stay under 1000, as in pgBackRest's.
constexpr int64_t versionNumber(std::string_view version) {
    int64_t parts[3] = {0, 0, 0};
    size_t part = 0;
    for (char c : version) {
        if (c == '.') {
            if (++part == 3) break;
        } else if (c >= '0' && c <= '9') {
            parts[part] = parts[part] * 10 + (c - '0');
        } else {
            break;
        }
    }
    return parts[0] * 1000000 + parts[1] * 1000 + parts[2];
}

static_assert(versionNumber("2.45") == 2045000);
static_assert(versionNumber("0.1.0") == 1000);

}  // namespace backrest
