// Names and display form of the typed errors.
#include "common/error.h"

#include <cerrno>
#include <cstring>
#include <iterator>

namespace backrest {

namespace {

constexpr ErrorInfo kErrors[] = {
#define BACKREST_ERROR_ROW(id, code, name, sqlstate, meaning) \
    {ErrorCode::id, name, sqlstate, meaning},
    BACKREST_ERROR_TABLE(BACKREST_ERROR_ROW)
#undef BACKREST_ERROR_ROW
};

// The table's promises, checked where it is compiled: codes ascend (so findError may stop early
// and errorTable() is in code order), and every SQLSTATE has PostgreSQL's five characters.
constexpr bool tableIsValid() {
    for (size_t i = 0; i < std::size(kErrors); ++i) {
        if (kErrors[i].sqlstate.size() != 5) return false;
        if (i > 0 && kErrors[i - 1].code >= kErrors[i].code) return false;
    }
    return true;
}
static_assert(tableIsValid(), "error_table.h: codes must ascend and SQLSTATEs have 5 characters");

}  // namespace

std::span<const ErrorInfo> errorTable() {
    return kErrors;
}

const ErrorInfo* findError(int code) {
    for (const ErrorInfo& e : kErrors)
        if (static_cast<int>(e.code) == code) return &e;
    return nullptr;
}

bool isKnownErrorCode(int code) {
    return findError(code) != nullptr;
}

std::string_view errorCodeName(ErrorCode code) {
    const ErrorInfo* e = findError(static_cast<int>(code));
    return e != nullptr ? e->name : "UnknownError";
}

std::string Error::display() const {
    return fmt::format("[{:03d}] {}: {}", exitCode(), errorCodeName(code_), what());
}

void raiseErrno(ErrorCode code, std::string_view what, std::string_view path) {
    int saved = errno;
    throw Error(code, fmt::format("{} '{}': {}", what, path, std::strerror(saved)));
}

}  // namespace backrest
