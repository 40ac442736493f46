// Option values as text: parsing and the per-option check every source of options goes through.
#include "common/option_value.h"

#include <cctype>
#include <charconv>
#include <limits>

#include "common/error.h"

namespace backrest {

namespace {

std::string lowerCase(std::string_view s) {
    std::string out;
    for (char c : s) out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    return out;
}

bool isAllowed(std::string_view allowed, std::string_view value) {
    while (!allowed.empty()) {
        size_t space = allowed.find(' ');
        if (allowed.substr(0, space) == value) return true;
        if (space == std::string_view::npos) break;
        allowed.remove_prefix(space + 1);
    }
    return false;
}

std::string allowedList(std::string_view allowed) {
    std::string list(allowed);
    for (size_t pos = 0; (pos = list.find(' ', pos)) != std::string::npos; pos += 2) {
        list.replace(pos, 1, ", ");
    }
    return list;
}

[[noreturn]] void raiseInvalid(const OptionDef& def, std::string_view value,
                               std::string_view origin, std::string_view expected) {
    raise(ErrorCode::Option, "invalid value '{}' for option '{}' (from {}): {}", value, def.name,
          origin, expected);
}

// pgBackRest values backrest refuses, said plainly: a carried-over pgbackrest.conf holds them.
void refuseCarriedOverValue(const OptionDef& def, std::string_view value, std::string_view origin) {
    if (def.name.ends_with("cipher-type") && value == "aes-256-cbc")
        raise(ErrorCode::Option,
              "option '{}' (from {}) is aes-256-cbc, pgBackRest's unauthenticated cipher: "
              "backrest encrypts with authenticated AES-256-GCM only, and cannot read a "
              "pgBackRest repository anyway; set {}=aes-256-gcm (with repo1-cipher-pass) "
              "for a new backrest repository, never a plaintext one",
              def.name, origin, def.name);
    // gz is pgBackRest's default, so most carried-over files name it. A new codec is a change of
    // src/io and of the repository format, not of the options.
    if (def.name == "compress-type" && (value == "gz" || value == "bz2"))
        raiseInvalid(def, value, origin,
                     fmt::format("{} is a pgBackRest compression backrest does not implement; "
                                 "backrest compresses with zst (its default), lz4 or none: set "
                                 "compress-type=zst or leave it unset",
                                 value));
}

// A stanza name becomes a directory and file name in the repository (archive/<stanza>/), in
// lock-path (<stanza>.stop, <stanza>-backup.lock) and in log-path (<stanza>-<command>.log): one
// that could name another directory ("../x", "a/b", "..") would stop, lock, log or delete
// outside them, so it is refused wherever it comes from, before any command uses it.
void refuseUnsafeStanzaName(std::string_view value) {
    bool unsafe = value.front() == '.';
    for (char c : value)
        if (c == '/' || c == '\\' || std::isspace(static_cast<unsigned char>(c)) ||
            std::iscntrl(static_cast<unsigned char>(c)))
            unsafe = true;
    if (unsafe)
        raise(ErrorCode::Option, "invalid stanza name '{}': use letters, digits, '-' and '_'",
              value);
}

// Digits then a unit parseSize knows, whatever the magnitude: "99999999TiB" is a size too large
// for the option, not a malformed one, and the message should say so.
bool hasSizeSyntax(std::string_view value) {
    size_t digits = 0;
    while (digits < value.size() && value[digits] >= '0' && value[digits] <= '9') digits++;
    return digits > 0 && parseSize("1" + std::string(value.substr(digits))).has_value();
}

}  // namespace

std::optional<bool> parseBool(std::string_view value) {
    std::string v = lowerCase(value);
    if (v == "y" || v == "yes" || v == "true" || v == "on" || v == "1") return true;
    if (v == "n" || v == "no" || v == "false" || v == "off" || v == "0") return false;
    return std::nullopt;
}

std::optional<int64_t> parseInt(std::string_view value) {
    int64_t result = 0;
    const char* end = value.data() + value.size();
    auto [ptr, ec] = std::from_chars(value.data(), end, result);
    if (value.empty() || ec != std::errc() || ptr != end) return std::nullopt;
    return result;
}

std::optional<int64_t> parseSize(std::string_view value) {
    size_t digits = 0;
    while (digits < value.size() && value[digits] >= '0' && value[digits] <= '9') digits++;
    auto number = parseInt(value.substr(0, digits));
    if (!number) return std::nullopt;
    std::string unit = lowerCase(value.substr(digits));
    // "" and "b" are bytes; otherwise a letter, then nothing, "b" or "ib".
    static constexpr std::string_view kPrefixes = "kmgtp";
    int shift = -1;
    if (unit.empty() || unit == "b") {
        shift = 0;
    } else if (size_t at = kPrefixes.find(unit[0]); at != std::string_view::npos) {
        std::string_view rest = std::string_view(unit).substr(1);
        if (rest.empty() || rest == "b" || rest == "ib") shift = 10 * static_cast<int>(at + 1);
    }
    if (shift < 0 || *number > (std::numeric_limits<int64_t>::max() >> shift)) return std::nullopt;
    return *number << shift;
}

std::string optionNameOfVariable(std::string_view suffix) {
    std::string name;
    for (char c : suffix)
        name += c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return name;
}

std::string variableOfOption(std::string_view prefix, std::string_view option) {
    std::string var(prefix);
    for (char c : option)
        var += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return var;
}

bool isFlagChoice(const OptionDef& def) {
    return def.type == OptionType::String && isAllowed(def.allowed, "y") &&
           isAllowed(def.allowed, "n");
}

std::string normalizeOptionValue(const OptionDef& def, std::string_view value,
                                 std::string_view origin) {
    switch (def.type) {
        case OptionType::Boolean: {
            auto b = parseBool(value);
            if (!b) {
                raiseInvalid(def, value, origin, "expected y or n (or true/false, on/off, 1/0)");
            }
            return *b ? "y" : "n";
        }
        case OptionType::Integer: {
            auto n = parseInt(value);
            if (!n) raiseInvalid(def, value, origin, "expected an integer");
            if (*n < def.minValue || *n > def.maxValue) {
                raiseInvalid(
                    def, value, origin,
                    fmt::format("expected an integer from {} to {}", def.minValue, def.maxValue));
            }
            return std::string(value);
        }
        case OptionType::Size: {
            auto n = parseSize(value);
            if (!n && !hasSizeSyntax(value))
                raiseInvalid(def, value, origin,
                             "expected a size such as 2MiB, 512KiB or a number of bytes");
            if (!n || *n < def.minValue || *n > def.maxValue)
                raiseInvalid(
                    def, value, origin,
                    fmt::format("expected a size from {} to {} bytes", def.minValue, def.maxValue));
            return std::to_string(*n);
        }
        case OptionType::String:
        case OptionType::Path:
            if (value.empty()) raiseInvalid(def, value, origin, "expected a non-empty value");
            if (def.name == "stanza") refuseUnsafeStanzaName(value);
            refuseCarriedOverValue(def, value, origin);
            if (isFlagChoice(def))
                if (auto b = parseBool(value)) return *b ? "y" : "n";
            if (!def.allowed.empty() && !isAllowed(def.allowed, value)) {
                raiseInvalid(def, value, origin,
                             fmt::format("expected one of {}", allowedList(def.allowed)));
            }
            return std::string(value);
    }
    return std::string(value);
}

}  // namespace backrest
