// Several repositories (repo1-* .. repo4-*, --repo=N), as pgBackRest has them: which ones a
// command works on, and how a command is run on each through its forRepo view of the options.
#pragma once

#include <string>
#include <vector>

#include "common/config.h"
#include "common/error.h"

namespace backrest::cmd {

// "repo2".
std::string repoName(int index);
// "repo2 (/var/lib/backrest2)", "repo2 (s3 bucket b, path /x)": for messages.
std::string describeRepo(const Config& config, int index);

// The configured repositories, in order, checked: --repo names one of them, and no two are the
// same location (a segment "in both" would be in one).
std::vector<int> configuredRepos(const Config& config);
// --repo when given, else every configured repository.
std::vector<int> selectedRepos(const Config& config);
// --repo when given, else the first configured repository (pgBackRest's default for backup).
int defaultRepo(const Config& config);

// An error raised in repoN's view names repoN's options: the code reads them as repo1-*
// (repo1-path, BACKREST_REPO1_CIPHER_PASS), which would send the user to the wrong repository.
Error inRepoTerms(const Error& error, int index);
// Runs f on repository `index`'s view, its errors in that repository's terms.
template <typename F>
auto inRepo(int index, F&& f) -> decltype(f()) {
    try {
        return f();
    } catch (const Error& e) {
        throw inRepoTerms(e, index);
    }
}

using RepoCommand = int (*)(const Config&);

// Each selected repository in turn, all of them even when one fails; the error (naming every
// repository that failed) once all were tried. archive-push, stanza-create, check, expire, ...
int runOnEachRepo(const Config& config, RepoCommand command);
// The one repository of defaultRepo (backup, repo-ls, repo-get, stanza-delete).
int runOnOneRepo(const Config& config, RepoCommand command);
// archive-get: the first selected repository that has the segment; one that fails is named in a
// warning and the next one tried. Not found anywhere: 1, unless one failed (then its error: the
// segment may be there, and recovery must not end early).
int archiveGetFromRepos(const Config& config, RepoCommand archiveGet);
// annotate --set: --repo, or every repository holding the backup (a label may be in several);
// none holding it is an error naming the label.
int annotateInRepos(const Config& config, RepoCommand annotate);
// expire: every selected repository; with --set, those holding that backup (as pgBackRest: a
// backup of repo2 expired without --repo is no failure of repo1), in none an error naming it.
int expireInRepos(const Config& config, RepoCommand expire);
// restore's body: `fallbackNote` (empty unless an earlier repository failed) ends its summary line.
using RestoreCommand = int (*)(const Config&, const std::string& fallbackNote);
// Whether a restore that failed with `code` may go on from the next repository: a fault of what
// the repository holds or serves (a stored file or manifest missing or damaged, a key that does
// not open it, the repository unreachable), never one of the target, the options or a signal.
bool isRepositoryFault(ErrorCode code);
// restore: --repo, or the first repository holding the backup restore would choose; one that
// fails for its content (isRepositoryFault) is named in a warning and the next repository holding
// such a backup restores over what it wrote (a delta restore, every file compared by checksum).
// None left: the error names each repository's failure. With --repo=N, no fallback.
int restoreFromRepos(const Config& config, RestoreCommand restore);

}  // namespace backrest::cmd
