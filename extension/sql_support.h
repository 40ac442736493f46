// Helpers for SQL functions written in C++: arguments and set-returning results, each PostgreSQL
// call inside pgCall.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "pg.h"

namespace backrest::ext {

// Argument n as a string; SqlError naming `name` when it is NULL.
std::string textArgument(FunctionCallInfo fcinfo, int n, const char* name);
bool boolArgument(FunctionCallInfo fcinfo, int n, const char* name);

// A text Datum in the function's memory context.
Datum textDatum(const std::string& value);

// "16/B374D848" → 0x16B374D848; nullopt when malformed.
std::optional<uint64_t> parseLsn(const std::string& text);

// The rows of a set-returning function, materialized in a tuplestore. Columns are filled left
// to right, then endRow() stores the row; the column count is checked against the result type.
class ResultRows {
  public:
    explicit ResultRows(FunctionCallInfo fcinfo);

    ResultRows& text(const std::optional<std::string>& value);
    ResultRows& bigint(std::optional<int64_t> value);
    ResultRows& integer(std::optional<int32_t> value);
    ResultRows& boolean(std::optional<bool> value);
    ResultRows& timestamp(std::optional<TimestampTz> value);
    ResultRows& epoch(std::optional<int64_t> seconds);  // as timestamptz
    ResultRows& lsn(const std::optional<std::string>& value);
    void endRow();

  private:
    ResultRows& put(std::optional<Datum> value);

    static constexpr int kMaxColumns = 16;
    ReturnSetInfo* resultInfo_;
    int columns_;
    int next_ = 0;
    Datum values_[kMaxColumns];
    bool nulls_[kMaxColumns];
};

}  // namespace backrest::ext
