// pgBackRest's backupArchiveCheck: a backup is consistent only with the WAL from its start to
// its stop, so it waits until every segment of that range is in the archive.
#pragma once

#include <functional>
#include <string>

#include "repo/layout.h"
#include "repo/manifest.h"
#include "storage/storage.h"

namespace backrest::backup {

struct ArchiveWait {
    std::string archiveId;  // archive.info's current archive id
    int timeoutSeconds = 60;
    // Called before every pause; throws to stop waiting (a cancelled backup).
    std::function<void()> checkCancelled = [] {};
};

// Returns once every segment from manifest.lsnStart to manifest.lsnStop (on its timeline) is in
// the archive; ArchiveTimeout naming the first missing segment after timeoutSeconds.
void waitForArchive(storage::Storage& repo, const repo::Layout& layout,
                    const repo::Manifest& manifest, const ArchiveWait& wait);

}  // namespace backrest::backup
