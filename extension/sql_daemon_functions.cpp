// SQL functions answered by the daemon: backrest_info() (the repository's backups),
// backrest_archive_status() (WAL archiving), backrest_stanza_create() and backrest_expire().
#include <fmt/format.h>

#include <optional>
#include <string>
#include <vector>

#include "daemon_client.h"
#include "pg.h"
#include "pg_guard.h"
#include "protocol/messages.h"
#include "settings.h"
#include "sql_support.h"

extern "C" {
PG_FUNCTION_INFO_V1(backrest_info);
PG_FUNCTION_INFO_V1(backrest_archive_status);
PG_FUNCTION_INFO_V1(backrest_stanza_create);
PG_FUNCTION_INFO_V1(backrest_expire);
}

namespace backrest::ext {

namespace {

constexpr int kRequestTimeoutMs = 60 * 1000;

// One request from a backend: the wait answers query cancels.
template <typename Request>
typename Request::Reply ask(const char* function, const Request& request) {
    requirePreloaded(function);
    requireStanza(function);
    DaemonSession daemon("sql", [] { checkForInterrupts(); });
    return daemon.call(request, kRequestTimeoutMs);
}

// The value at a path of keys; null when any step is missing.
const Message& find(const Message& message, std::initializer_list<const char*> path) {
    static const Message null;
    const Message* at = &message;
    for (const char* key : path) {
        if (!at->is_object() || !at->contains(key)) return null;
        at = &(*at)[key];
    }
    return *at;
}

std::optional<std::string> optString(const Message& value) {
    return value.is_string() ? std::optional<std::string>(value.get<std::string>()) : std::nullopt;
}

std::optional<int64_t> optInt(const Message& value) {
    return value.is_number() ? std::optional<int64_t>(value.get<int64_t>()) : std::nullopt;
}

// "repo2" for a repository's index.
std::optional<std::string> repoColumn(const Message& index) {
    auto n = optInt(index);
    return n ? std::optional<std::string>(fmt::format("repo{}", *n)) : std::nullopt;
}

Datum listBackups(FunctionCallInfo fcinfo) {
    protocol::InfoReply reply = ask("backrest_info()", protocol::Info{});
    ResultRows rows(fcinfo);
    for (const Message& b : reply.backups) {
        rows.text(optString(find(b, {"label"})))
            .text(optString(find(b, {"type"})))
            .text(optString(find(b, {"prior"})))
            .epoch(optInt(find(b, {"timestamp", "start"})))
            .epoch(optInt(find(b, {"timestamp", "stop"})))
            .lsn(optString(find(b, {"lsn", "start"})))
            .lsn(optString(find(b, {"lsn", "stop"})))
            .text(optString(find(b, {"archive", "start"})))
            .text(optString(find(b, {"archive", "stop"})))
            .bigint(optInt(find(b, {"info", "size"})))
            // repo_size: what this backup stored (pgBackRest's repository.delta, doc/info-json.md).
            .bigint(optInt(find(b, {"info", "repository", "delta"})))
            .text(repoColumn(find(b, {"database", "repo-key"})))
            .text(std::nullopt)
            // The newest restore drill of this backup (backrest drill): passed or failed, when.
            .text(optString(find(b, {"drill", "result"})))
            .epoch(optInt(find(b, {"drill", "stop"})))
            .endRow();
    }
    // A repository that could not be read: one row naming it, with its error, and no backup.
    for (const Message& e : reply.errors) {
        for (int column = 0; column < 11; column++) rows.text(std::nullopt);
        rows.text(repoColumn(find(e, {"repo"}))).text(optString(find(e, {"message"})));
        rows.text(std::nullopt).timestamp(std::nullopt).endRow();
    }
    return Datum(0);
}

Datum archiveStatus(FunctionCallInfo fcinfo) {
    protocol::ArchiveStatusReply s = ask("backrest_archive_status()", protocol::ArchiveStatus{});
    ResultRows rows(fcinfo);
    rows.text(s.lastArchived)
        .epoch(s.lastArchivedTime)
        .text(s.lastFailure)
        .epoch(s.lastFailureTime)
        .text(s.lastFailureMessage)
        .bigint(static_cast<int64_t>(s.pending))
        .bigint(static_cast<int64_t>(s.pushed))
        .boolean(s.async)
        .text(s.stream)
        .bigint(static_cast<int64_t>(s.streamed))
        .endRow();
    return Datum(0);
}

Datum createStanza() {
    return textDatum(ask("backrest_stanza_create()", protocol::StanzaCreate{}).message);
}

// Applies the retention of the config file now (the daemon also does after each backup).
Datum expireBackups(FunctionCallInfo fcinfo) {
    protocol::Expire request;
    request.dryRun = !PG_ARGISNULL(0) && PG_GETARG_BOOL(0);
    // set => '<label>': that backup (and its dependents) in every repository holding it.
    if (!PG_ARGISNULL(1)) request.set = textArgument(fcinfo, 1, "set");
    return textDatum(ask("backrest_expire()", request).report);
}

}  // namespace

}  // namespace backrest::ext

using namespace backrest::ext;

Datum backrest_info(PG_FUNCTION_ARGS) {
    return pgEntry("backrest_info()", [&] { return listBackups(fcinfo); });
}

Datum backrest_archive_status(PG_FUNCTION_ARGS) {
    return pgEntry("backrest_archive_status()", [&] { return archiveStatus(fcinfo); });
}

Datum backrest_stanza_create(PG_FUNCTION_ARGS) {
    (void)fcinfo;
    return pgEntry("backrest_stanza_create()", [] { return createStanza(); });
}

Datum backrest_expire(PG_FUNCTION_ARGS) {
    return pgEntry("backrest_expire()", [&] { return expireBackups(fcinfo); });
}
