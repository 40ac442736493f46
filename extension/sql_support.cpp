// SQL argument and result plumbing for the C++ SQL functions.
#include "sql_support.h"

#include <fmt/format.h>

#include <charconv>

#include "common/error.h"
#include "pg_guard.h"

namespace backrest::ext {

std::string textArgument(FunctionCallInfo fcinfo, int n, const char* name) {
    if (PG_ARGISNULL(n))
        throw SqlError(ERRCODE_NULL_VALUE_NOT_ALLOWED, fmt::format("{} must not be null", name));
    const char* value = pgCall([&] { return text_to_cstring(PG_GETARG_TEXT_PP(n)); });
    return value;
}

bool boolArgument(FunctionCallInfo fcinfo, int n, const char* name) {
    if (PG_ARGISNULL(n))
        throw SqlError(ERRCODE_NULL_VALUE_NOT_ALLOWED, fmt::format("{} must not be null", name));
    return PG_GETARG_BOOL(n);
}

Datum textDatum(const std::string& value) {
    return pgCall([&] { return CStringGetTextDatum(value.c_str()); });
}

std::optional<uint64_t> parseLsn(const std::string& text) {
    auto slash = text.find('/');
    if (slash == std::string::npos) return std::nullopt;
    uint32_t high = 0, low = 0;
    auto [hEnd, hErr] = std::from_chars(text.data(), text.data() + slash, high, 16);
    auto [lEnd, lErr] =
        std::from_chars(text.data() + slash + 1, text.data() + text.size(), low, 16);
    if (hErr != std::errc() || lErr != std::errc() || hEnd != text.data() + slash ||
        lEnd != text.data() + text.size())
        return std::nullopt;
    return (static_cast<uint64_t>(high) << 32) | low;
}

ResultRows::ResultRows(FunctionCallInfo fcinfo) {
    pgCall([&] { InitMaterializedSRF(fcinfo, 0); });
    resultInfo_ = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    columns_ = resultInfo_->setDesc->natts;
    if (columns_ > kMaxColumns)
        raise(ErrorCode::Assert, "result type has {} columns, at most {}", columns_, kMaxColumns);
}

ResultRows& ResultRows::put(std::optional<Datum> value) {
    if (next_ >= columns_)
        raise(ErrorCode::Assert, "result row has more than its {} columns", columns_);
    values_[next_] = value.value_or(Datum(0));
    nulls_[next_] = !value.has_value();
    next_++;
    return *this;
}

ResultRows& ResultRows::text(const std::optional<std::string>& value) {
    return put(value ? std::optional<Datum>(textDatum(*value)) : std::nullopt);
}

ResultRows& ResultRows::bigint(std::optional<int64_t> value) {
    return put(value ? std::optional<Datum>(Int64GetDatum(*value)) : std::nullopt);
}

ResultRows& ResultRows::integer(std::optional<int32_t> value) {
    return put(value ? std::optional<Datum>(Int32GetDatum(*value)) : std::nullopt);
}

ResultRows& ResultRows::boolean(std::optional<bool> value) {
    return put(value ? std::optional<Datum>(BoolGetDatum(*value)) : std::nullopt);
}

ResultRows& ResultRows::timestamp(std::optional<TimestampTz> value) {
    return put(value ? std::optional<Datum>(TimestampTzGetDatum(*value)) : std::nullopt);
}

ResultRows& ResultRows::epoch(std::optional<int64_t> seconds) {
    return timestamp(seconds ? std::optional<TimestampTz>(time_t_to_timestamptz(*seconds))
                             : std::nullopt);
}

ResultRows& ResultRows::lsn(const std::optional<std::string>& value) {
    std::optional<uint64_t> parsed = value ? parseLsn(*value) : std::nullopt;
    return put(parsed ? std::optional<Datum>(LSNGetDatum(*parsed)) : std::nullopt);
}

void ResultRows::endRow() {
    if (next_ != columns_)
        raise(ErrorCode::Assert, "result row has {} of its {} columns", next_, columns_);
    pgCall([&] {
        tuplestore_putvalues(resultInfo_->setResult, resultInfo_->setDesc, values_, nulls_);
    });
    next_ = 0;
}

}  // namespace backrest::ext
