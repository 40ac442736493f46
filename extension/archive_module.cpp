// archive_library = 'backrest': each WAL segment goes to the daemon as archive-push; success
// only once the daemon says it is durable, else a WARNING and false so PostgreSQL retries it.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>

#include "common/error.h"
#include "daemon_client.h"
#include "pg.h"
#include "pg_guard.h"
#include "protocol/messages.h"
#include "settings.h"
#include "shared_state.h"

extern "C" PGDLLEXPORT void _PG_archive_module_init(ArchiveModuleCallbacks* callbacks);

namespace backrest::ext {

namespace {

// One connection per archiver process, dropped after any failure: the daemon may have been
// restarted, and the next segment connects afresh.
std::unique_ptr<DaemonSession> session;
const char* lastNotConfiguredReason = nullptr;

void checkPostmaster() {
    if (!PostmasterIsAlive()) raise(ErrorCode::Protocol, "the postmaster died");
}

const char* notConfiguredReason() {
    if (!preloaded())
        return "backrest is not in shared_preload_libraries, so its daemon is not running";
    if (settings.stanza == nullptr || settings.stanza[0] == '\0')
        return "backrest.stanza is not set";
    return nullptr;
}

// PostgreSQL logs that archiving is not configured; this says why, once per reason.
bool checkConfigured() {
    return pgEntry("backrest archive module", [] {
        const char* reason = notConfiguredReason();
        if (reason != nullptr && reason != lastNotConfiguredReason)
            report(LOG, std::string("backrest: WAL archiving is not configured: ") + reason);
        lastNotConfiguredReason = reason;
        return reason == nullptr;
    });
}

// Returns how the daemon has the file: "stored", "already-present", "pushed-ahead", "streamed", or
// "dropped: <why>" (archive-push-queue-max).
std::string push(const std::string& path) {
    int timeoutMs = settings.archiveTimeout * 1000;
    protocol::ArchivePush request{path};
    if (session) {
        try {
            return session->call(request, timeoutMs).result;
        } catch (const Error& e) {
            // A connection the daemon closed (restarted for new settings, say): one retry on a
            // fresh one. A push is idempotent, so a segment already stored is simply confirmed.
            if (e.code() != ErrorCode::Protocol) throw;
            session.reset();
        }
    }
    session =
        std::make_unique<DaemonSession>("archiver", checkPostmaster, std::min(timeoutMs, 10000));
    return session->call(request, timeoutMs).result;
}

bool archiveFile(const char* file, const char* path) {
    return pgEntryOr(
        [&] {
            auto started = std::chrono::steady_clock::now();
            std::string how =
                push(path[0] == '/' ? std::string(path) : std::string(DataDir) + "/" + path);
            // The callback's latency, for the benchmark (log_min_messages = debug1).
            double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                                  started)
                            .count();
            // archive-push-queue-max dropped it: PostgreSQL may recycle the segment, and the
            // server log must say loudly that the archive now has a gap (the daemon logs its
            // ERROR there too).
            if (how.starts_with("dropped: "))
                report(WARNING,
                       fmt::format("backrest: WAL file \"{}\" was DROPPED, not archived: {}", file,
                                   how.substr(9)));
            else
                report(DEBUG1, fmt::format("backrest: archived WAL file \"{}\" in {:.3f} ms ({})",
                                           file, ms, how));
            return true;
        },
        [&](CaughtError& caught) {
            session.reset();
            if (caught.pgError != nullptr) raiseCaught("backrest archive module", caught);
            // The daemon serves the archiver until the postmaster exits, so every failure is real:
            // PostgreSQL keeps the segment .ready and retries.
            ereport(WARNING,
                    (errmsg("backrest: archiving WAL file \"%s\" failed: %s", file, caught.message),
                     caught.detail[0] != '\0' ? errdetail("%s.", caught.detail) : 0));
            return false;
        });
}

void shutdown() {
    session.reset();
}

}  // namespace

}  // namespace backrest::ext

void _PG_archive_module_init(ArchiveModuleCallbacks* callbacks) {
    callbacks->check_configured_cb = backrest::ext::checkConfigured;
    callbacks->archive_file_cb = backrest::ext::archiveFile;
    callbacks->shutdown_cb = backrest::ext::shutdown;
}
