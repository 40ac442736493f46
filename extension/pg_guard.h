// The C++ <-> PostgreSQL boundary (pg_duckdb's InvokeCPPFunc / PostgresFunctionGuard pattern):
// pgEntry guards every function PostgreSQL calls, pgCall every call into PostgreSQL from C++.
//
// So no longjmp ever crosses a C++ frame with live destructors, and no C++ exception ever
// unwinds through PostgreSQL's C frames.
#pragma once

#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "pg.h"

namespace backrest::ext {

// A PostgreSQL ERROR caught by pgCall, carried through C++ frames as an exception. It owns a
// copy of the ErrorData in TopMemoryContext (a transaction abort on the way cannot free it)
// that pgEntry re-raises with its SQLSTATE, message, detail and hint intact.
//
// PostgreSQL's state after a caught ERROR is only consistent again once the transaction is
// aborted: let a PgError reach pgEntry, or AbortCurrentTransaction() before calling on.
class PgError : public std::exception {
  public:
    explicit PgError(ErrorData* data) noexcept : data_(data) {}
    PgError(PgError&& other) noexcept : data_(std::exchange(other.data_, nullptr)) {}
    PgError(const PgError&) = delete;
    PgError& operator=(const PgError&) = delete;
    ~PgError() override;

    const char* what() const noexcept override;
    ErrorData* release() noexcept { return std::exchange(data_, nullptr); }

  private:
    ErrorData* data_;
};

// An error meant for the SQL user (a bad argument, a missing setting): raised by pgEntry as
// ereport(ERROR) with this SQLSTATE, message and optional hint and detail.
class SqlError : public std::runtime_error {
  public:
    SqlError(int sqlstate, const std::string& message, std::string hint = {},
             std::string detail = {})
        : std::runtime_error(message),
          sqlstate_(sqlstate),
          hint_(std::move(hint)),
          detail_(std::move(detail)) {}
    int sqlstate() const { return sqlstate_; }
    const std::string& hint() const { return hint_; }
    const std::string& detail() const { return detail_; }

  private:
    int sqlstate_;
    std::string hint_;
    std::string detail_;
};

// What an entry point caught, in fixed buffers: it must outlive the catch block without owning
// anything that needs a destructor, because what follows it may longjmp.
struct CaughtError {
    ErrorData* pgError = nullptr;  // a PostgreSQL error, re-raised as it was
    bool userError = false;        // a SqlError: its message stands alone
    int backrestCode = 0;          // a backrest::Error's code, 0 for other exceptions
    int sqlstate = 0;
    char message[2048] = "";
    char detail[1024] = "";
    char hint[512] = "";

    const char* text() const {
        return pgError != nullptr && pgError->message != nullptr ? pgError->message : message;
    }
};

// Fills `out` from the exception being handled. Call only inside a catch block.
void captureCurrentException(CaughtError& out) noexcept;

// ereport(ERROR) for what was caught: a PostgreSQL error exactly as it was raised, a SqlError as
// it is, anything else as "<where>: <message>" with the backrest error code in the detail.
[[noreturn]] void raiseCaught(const char* where, CaughtError& caught);

// Copies the current PostgreSQL error out of ErrorContext and clears the error state; used by
// pgCall's PG_CATCH only.
ErrorData* takePgError(MemoryContext callerContext);

// Runs `body` (C++). If it throws, its scope ends first — every destructor has run — and only
// then `onFailure(CaughtError&)` runs and its result is returned; onFailure may ereport. Closures
// must capture by reference: a capture with a destructor would be skipped by a longjmp.
template <typename F, typename OnFailure>
auto pgEntryOr(F&& body, OnFailure&& onFailure) -> std::invoke_result_t<F&> {
    using R = std::invoke_result_t<F&>;
    static_assert(std::is_void_v<R> || std::is_trivially_destructible_v<R>,
                  "an entry point returns a PostgreSQL value (Datum, bool, void)");
    static_assert(std::is_trivially_destructible_v<std::remove_reference_t<F>> &&
                      std::is_trivially_destructible_v<std::remove_reference_t<OnFailure>>,
                  "capture by reference: a longjmp would skip a captured object's destructor");
    CaughtError caught;
    try {
        return body();
    } catch (...) {
        captureCurrentException(caught);
    }
    return onFailure(caught);
}

// The guard of every SQL function and background worker main: any exception becomes an
// ereport(ERROR) raised after the C++ scope has ended.
template <typename F>
auto pgEntry(const char* where, F&& body) -> std::invoke_result_t<F&> {
    return pgEntryOr(
        std::forward<F>(body),
        [where](CaughtError& caught) -> std::invoke_result_t<F&> { raiseCaught(where, caught); });
}

namespace detail {
// A C++ exception thrown inside PG_TRY would leave PG_exception_stack pointing at a dead frame:
// terminate loudly instead.
template <typename F>
auto invokeNoexcept(F& fn) noexcept -> std::invoke_result_t<F&> {
    return fn();
}
}  // namespace detail

// Calls PostgreSQL from C++: `fn` runs inside PG_TRY and an ERROR comes back as a PgError
// exception. `fn` must hold no C++ object with a destructor (it is skipped by the longjmp) and
// must not throw; it returns void or a plain value (Datum, pointer, number).
template <typename F>
auto pgCall(F&& fn) -> std::invoke_result_t<F&> {
    using R = std::invoke_result_t<F&>;
    static_assert(std::is_void_v<R> || std::is_scalar_v<R>,
                  "pgCall returns plain values (Datum, pointer, number)");
    static_assert(std::is_trivially_destructible_v<std::remove_reference_t<F>>,
                  "capture by reference");
    MemoryContext callerContext = CurrentMemoryContext;
    ErrorData* volatile error = nullptr;
    if constexpr (std::is_void_v<R>) {
        PG_TRY();
        { detail::invokeNoexcept(fn); }
        PG_CATCH();
        { error = takePgError(callerContext); }
        PG_END_TRY();
        if (error != nullptr) throw PgError(error);
    } else {
        volatile R result{};  // volatile: written after sigsetjmp
        PG_TRY();
        { result = detail::invokeNoexcept(fn); }
        PG_CATCH();
        { error = takePgError(callerContext); }
        PG_END_TRY();
        if (error != nullptr) throw PgError(error);
        return result;
    }
}

// CHECK_FOR_INTERRUPTS from C++: a query cancel or terminate request surfaces as a PgError.
inline void checkForInterrupts() {
    pgCall([] { CHECK_FOR_INTERRUPTS(); });
}

// ereport at a level below ERROR (LOG, WARNING, NOTICE) from C++.
void report(int level, const std::string& message, const std::string& detail = {});

}  // namespace backrest::ext
