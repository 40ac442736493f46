// The non-template half of the boundary: capturing any exception into fixed buffers, and
// turning what was caught into ereport(ERROR) once no C++ frame with a destructor is left.
#include "pg_guard.h"

#include <cstdio>
#include <cstring>
#include <new>

#include "common/error.h"

namespace backrest::ext {

namespace {

void copyText(char* to, size_t size, const char* from) noexcept {
    std::strncpy(to, from != nullptr ? from : "", size - 1);
    to[size - 1] = '\0';
}

template <size_t N>
void copyText(char (&to)[N], const std::string& from) noexcept {
    copyText(to, N, from.c_str());
}

template <size_t N>
void copyText(char (&to)[N], const char* from) noexcept {
    copyText(to, N, from);
}

// The SQLSTATE of an engine error, from the error table (common/error_table.h), so scripts can
// tell a cancel from a lock conflict.
int sqlstateOf(ErrorCode code) {
    const ErrorInfo* e = findError(static_cast<int>(code));
    if (e == nullptr) return ERRCODE_EXTERNAL_ROUTINE_EXCEPTION;
    const std::string_view s = e->sqlstate;  // five characters: the table checks it
    return MAKE_SQLSTATE(s[0], s[1], s[2], s[3], s[4]);
}

// The last PostgreSQL error handed to ReThrowError. ReThrowError copies it into ErrorContext and
// never returns, so the copy is freed at the next re-raise: at most one is ever kept.
ErrorData* lastReraised = nullptr;

}  // namespace

PgError::~PgError() {
    if (data_ != nullptr) FreeErrorData(data_);
}

const char* PgError::what() const noexcept {
    return data_ != nullptr && data_->message != nullptr ? data_->message : "PostgreSQL error";
}

ErrorData* takePgError(MemoryContext callerContext) {
    MemoryContextSwitchTo(TopMemoryContext);
    ErrorData* data = CopyErrorData();
    FlushErrorState();
    MemoryContextSwitchTo(callerContext);
    return data;
}

void captureCurrentException(CaughtError& out) noexcept {
    try {
        throw;
    } catch (PgError& e) {
        out.pgError = e.release();
        out.sqlstate = out.pgError->sqlerrcode;
    } catch (const SqlError& e) {
        out.userError = true;
        out.sqlstate = e.sqlstate();
        copyText(out.message, e.what());
        copyText(out.detail, e.detail());
        copyText(out.hint, e.hint());
    } catch (const Error& e) {
        out.backrestCode = e.exitCode();
        out.sqlstate = sqlstateOf(e.code());
        copyText(out.message, e.what());
        std::snprintf(out.detail, sizeof out.detail, "backrest error [%03d] %s", e.exitCode(),
                      errorCodeName(e.code()).data());
    } catch (const std::bad_alloc&) {
        out.sqlstate = ERRCODE_OUT_OF_MEMORY;
        copyText(out.message, "out of memory");
    } catch (const std::exception& e) {
        out.sqlstate = ERRCODE_INTERNAL_ERROR;
        copyText(out.message, e.what());
    } catch (...) {
        out.sqlstate = ERRCODE_INTERNAL_ERROR;
        copyText(out.message, "unknown C++ exception");
    }
}

void raiseCaught(const char* where, CaughtError& caught) {
    if (caught.pgError != nullptr) {
        if (lastReraised != nullptr) FreeErrorData(lastReraised);
        lastReraised = caught.pgError;
        ReThrowError(caught.pgError);
    }
    if (caught.userError) {
        ereport(ERROR, (errcode(caught.sqlstate), errmsg("%s", caught.message),
                        caught.detail[0] != '\0' ? errdetail("%s", caught.detail) : 0,
                        caught.hint[0] != '\0' ? errhint("%s", caught.hint) : 0));
    }
    ereport(ERROR, (errcode(caught.sqlstate), errmsg("%s: %s", where, caught.message),
                    caught.detail[0] != '\0' ? errdetail("%s.", caught.detail) : 0));
    pg_unreachable();
}

void report(int level, const std::string& message, const std::string& detail) {
    pgCall([&] {
        ereport(level, (errmsg("%s", message.c_str()),
                        !detail.empty() ? errdetail("%s", detail.c_str()) : 0));
    });
}

}  // namespace backrest::ext
