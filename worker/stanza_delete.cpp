// stanza-delete: removes a stanza's archive and backups from the repository, with pgBackRest's
// safety checks: `backrest stop --stanza` must have been run on this host (so nothing archives or
// backs up into what is being removed), and PostgreSQL must be down unless --force. The info
// files go first: a delete interrupted (kill -9) leaves a stanza no command takes for valid, and
// running it again finishes the job.
#include <sys/stat.h>

#include <string>

#include "common/error.h"
#include "common/log.h"
#include "repo/layout.h"
#include "repo/lock.h"
#include "repo/stop_file.h"
#include "worker/commands.h"
#include "worker/context.h"

namespace backrest::cmd {

namespace {

// A stanza name that could reach outside its own directories is refused: a delete by prefix must
// only ever match archive/<stanza>/ and backup/<stanza>/.
void requireOwnDirectoryName(const std::string& stanza) {
    if (stanza.empty() || stanza == "." || stanza == ".." || stanza.find('/') != std::string::npos)
        raise(ErrorCode::Option, "stanza-delete: invalid stanza name '{}'", stanza);
}

void requireStopped(const std::string& lockPath, const std::string& stanza) {
    std::string file = repo::stopFile(lockPath, stanza);
    struct stat st;
    if (::stat(file.c_str(), &st) != 0)
        raise(ErrorCode::FileMissing,
              "stanza-delete: stop file does not exist for stanza '{}' ({}); run 'backrest stop "
              "--stanza={}' on this host first",
              stanza, file, stanza);
}

void requirePostgresDown(const std::string& pgPath, const std::string& stanza) {
    std::string pid = pgPath + "/postmaster.pid";
    struct stat st;
    if (::stat(pid.c_str(), &st) == 0)
        raise(ErrorCode::Postmaster,
              "stanza-delete: {} exists - looks like PostgreSQL is running. To delete stanza "
              "'{}' on repo1, shut down PostgreSQL for stanza '{}' and try again, or use --force.",
              pid, stanza, stanza);
}

void removeInfoFiles(storage::Storage& repo, const repo::Layout& layout) {
    for (const std::string& info : {layout.archiveInfo(), layout.backupInfo()}) {
        repo.remove(info);
        repo.remove(info + ".copy");
    }
}

}  // namespace

int stanzaDelete(const Config& config) {
    std::string stanza = config.getString(opt::stanza);
    requireOwnDirectoryName(stanza);
    std::string lockPath = config.getString(opt::lockPath);
    auto repo = openRepoStorage(config, RepoAccess::Write);
    repo::Layout layout{stanza};

    // A backup, expire or rekey still running (started before the stop) fails the delete here.
    // Taken before anything is looked at: a second stanza-delete at the same time either finds
    // the locks held (29) or, after the first, nothing left to delete (0) — never the first's
    // stop file gone from under its own checks.
    repo::StanzaLock backupLock(lockPath, stanza, "backup");
    repo::StanzaLock archiveLock(lockPath, stanza, "archive");
    bool hasData = !repo->list(layout.archiveRoot(), true).empty() ||
                   !repo->list(layout.backupRoot(), true).empty();
    if (hasData) {
        // Required even with --force, as pgBackRest's.
        requireStopped(lockPath, stanza);
        if (!config.getBool(opt::force)) requirePostgresDown(pgPath(config), stanza);
    }
    if (hasData) removeInfoFiles(*repo, layout);
    repo->removePath(layout.archiveRoot(), true);
    repo->removePath(layout.backupRoot(), true);
    ::unlink(repo::stopFile(lockPath, stanza).c_str());
    logInfo("stanza-delete: stanza '{}' removed from {}", stanza, repo->fullPath(""));
    return 0;
}

}  // namespace backrest::cmd
