// Waiting for a backup's WAL range in the archive; see archive_wait.h.
#include "command/backup/archive_wait.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "common/error.h"
#include "pg/wal.h"
#include "repo/wal_archive.h"

namespace backrest::backup {

namespace {

// The longest pause between two looks for a WAL segment the backup waits for.
constexpr std::chrono::milliseconds kArchivePollMax{500};

double monotonicSeconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

}  // namespace

void waitForArchive(storage::Storage& repo, const repo::Layout& layout,
                    const repo::Manifest& manifest, const ArchiveWait& wait) {
    auto segments = pg::walRange(manifest.timeline, pg::parseLsn(manifest.lsnStart),
                                 pg::parseLsn(manifest.lsnStop), manifest.walSegmentSize);
    double deadline = monotonicSeconds() + wait.timeoutSeconds;
    auto pause = std::chrono::milliseconds(10);
    for (const auto& segment : segments) {
        while (!repo::findWal(repo, layout, wait.archiveId, segment)) {
            wait.checkCancelled();
            if (monotonicSeconds() > deadline)
                raise(ErrorCode::ArchiveTimeout,
                      "backup {}: WAL segment {} was not archived within archive-timeout ({} "
                      "s); check "
                      "archive_command / archive_library and the server log",
                      manifest.label, segment, wait.timeoutSeconds);
            // The archiver usually stores the stop segment within milliseconds: a short
            // first poll keeps the wait from rounding every backup up by 100 ms. Each poll
            // lists the archive (a request to an object store: a 10 ms poll was 100 LISTs a
            // second against the store the archiver was pushing to), so the pause doubles.
            std::this_thread::sleep_for(pause);
            pause = std::min(pause * 2, kArchivePollMax);
        }
    }
}

}  // namespace backrest::backup
