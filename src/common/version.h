// The backrest release, recorded in every manifest.
#pragma once

namespace backrest {
inline constexpr const char* kVersion = "0.1.0";
}
