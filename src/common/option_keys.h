// Typed keys for reading options: config.getInt(opt::processMax). A key exists only for an option
// of option_table.h, so code that reads an undefined option does not compile, and the key's type
// picks the getters that take it (getBool(opt::processMax) does not compile either).
#pragma once

#include <string_view>

#include "common/option_table.h"

namespace backrest {

// Size: a byte count, given as a number of bytes or with a unit (KiB, MiB, GiB; KB, MB, GB and
// K, M, G mean the same powers of 1024, as in pgBackRest), read with getInt.
enum class OptionType { String, Integer, Boolean, Path, Size };

template <OptionType Type>
struct OptionKey {
    std::string_view name;
};

namespace opt {
#define BACKREST_OPTION_KEY(key, type, name, ...) \
    inline constexpr OptionKey<OptionType::type> key{name};
BACKREST_OPTION_TABLE(BACKREST_OPTION_KEY)
#undef BACKREST_OPTION_KEY
}  // namespace opt

}  // namespace backrest
