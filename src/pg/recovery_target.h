// Recovery target values as PostgreSQL 15 accepts them for recovery_target_time, _xid, _lsn
// and _name, checked before a restore writes anything: a value PostgreSQL would refuse only
// when the restored server starts is refused here, naming the option.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace backrest::pg {

struct TargetTime {
    double epoch = 0;    // seconds since 1970-01-01 UTC
    bool zoned = false;  // the value named its zone (offset, Z or UTC)
    // The value for recovery_target_time: as given when zoned; otherwise with the offset the
    // restoring host's time zone had at that time appended, so that PostgreSQL (which would read
    // a zone-less value in the restored server's `timezone`) stops at the instant the backup was
    // chosen for.
    std::string setting;
};

// YYYY-MM-DD{ |T}HH:MM[:SS[.fraction]][ ][+|-HH[[:]MM] | Z | UTC]. OptionError naming 'target',
// the value and the expected form when malformed or out of range.
TargetTime parseTargetTime(std::string_view text);

// A transaction id: a positive decimal integer, 32-bit or 64-bit with its epoch (PostgreSQL 13+
// accepts both and compares the low 32 bits).
uint64_t parseTargetXid(std::string_view text);

// "X/X" hexadecimal, each half at most 8 digits.
uint64_t parseTargetLsn(std::string_view text);

// A restore point name: non-empty, at most 63 bytes (NAMEDATALEN - 1).
void checkTargetName(std::string_view text);

// --target-timeline: 'current', 'latest', or a timeline id 1..4294967295 in decimal or 0x
// hexadecimal, returned as PostgreSQL must read it ('current', 'latest' or decimal). PostgreSQL
// reads a number with strtoul(.., 0): a leading zero is octal (010 is timeline 8), a leading space
// or sign is skipped, and a value past 32 bits wraps; restore checks the archive along the
// timeline it computes, so any form the two could read differently is an OptionError.
std::string parseTargetTimeline(std::string_view text, std::string_view option = "target-timeline");

// "2026-12-05 08:14:03+00": a time for messages, in UTC as PostgreSQL prints it.
std::string formatUtc(double epoch);

}  // namespace backrest::pg
