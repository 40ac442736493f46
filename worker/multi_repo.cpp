// Several repositories: the choice of repositories per command and the loops over them. A command
// body works on one repository, reading repo1-* through its Config::forRepo view; these loops
// decide which views it gets and what a failure of one repository means for the whole command.
#include "worker/multi_repo.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>

#include "common/error.h"
#include "common/log.h"
#include "repo/info.h"
#include "worker/archive_get_async.h"
#include "worker/context.h"
#include "worker/recovery_config.h"
#include "worker/restore_plan.h"
#include "worker/restore_target.h"

namespace backrest::cmd {

namespace {

// A local directory as the one place it is: "/r/.", "/r//" and a symlink to /r are all /r (a
// DBA's repo2-path through a symlink to repo1's would count each segment twice while it is once).
std::string localLocation(const std::string& path) {
    std::error_code ec;
    std::filesystem::path canonical = std::filesystem::weakly_canonical(path, ec);
    return (ec ? std::filesystem::path(path).lexically_normal() : canonical).string();
}

// What says where a repository is: two repositories with the same are one.
std::string locationOf(const Config& view) {
    std::string type = view.getString(opt::repo1Type);
    std::string where = view.getString(opt::repo1Path);
    if (type == "s3")
        where = fmt::format("{} {}/{}", view.find(opt::repo1S3Endpoint).value_or(""),
                            view.find(opt::repo1S3Bucket).value_or(""), where);
    else if (type == "azure")
        where = fmt::format("{}/{}/{}", view.find(opt::repo1AzureAccount).value_or(""),
                            view.find(opt::repo1AzureContainer).value_or(""), where);
    else if (type == "sftp")
        where = fmt::format("{}:{}", view.find(opt::repo1SftpHost).value_or(""), where);
    else if (type == "posix")
        where = localLocation(where);
    while (where.size() > 1 && where.back() == '/') where.pop_back();
    return type + " " + where;
}

// The first error's code (the one a script sees as exit status), every failure's message.
[[noreturn]] void raiseFailures(const Config& config,
                                const std::vector<std::pair<int, Error>>& failures,
                                const std::string& hint = {}) {
    std::string message;
    for (const auto& [index, error] : failures)
        message += fmt::format("{}{}: {}", message.empty() ? "" : "; ", describeRepo(config, index),
                               error.what());
    throw Error(failures.front().second.code(),
                fmt::format("{}: {} of {} repositories failed: {}{}", config.command(),
                            failures.size(), selectedRepos(config).size(), message, hint));
}

// A repository's view with no key opened yet: the key one repository's command opened (a process
// global, worker/context.h) never stands for the next one's.
Config freshView(const Config& config, int index) {
    useRepoKey(nullptr);
    return config.forRepo(index);
}

// Repository `index`'s backup.info, read through its view (its errors in its terms).
repo::BackupInfo backupInfoIn(const Config& view, int index) {
    return inRepo(index, [&] {
        auto repo = openRepo(view);
        return repo::requireBackupInfo(*repo, stanzaLayout(view));
    });
}

// archive-get: the segment is in none of the repositories that answered, and one that failed may
// hold it, so recovery stops. Recovery resumes once the failed one is readable again; if it is
// lost for good, --repo naming one that answered ends recovery where that one's WAL ends.
std::string readableHint(const Config& config, const std::vector<std::pair<int, Error>>& failures) {
    std::string failed;
    std::string answered;
    int first = 0;
    for (int index : selectedRepos(config)) {
        bool didFail = std::any_of(failures.begin(), failures.end(),
                                   [&](const auto& f) { return f.first == index; });
        std::string& list = didFail ? failed : answered;
        list += (list.empty() ? "" : ", ") + repoName(index);
        if (!didFail && first == 0) first = index;
    }
    if (first == 0) return {};
    std::string what = config.params().empty() ? "the file" : config.params().front();
    return fmt::format(
        " ({} is not in {}; {} may hold it). Make {} readable and start the server again to "
        "resume recovery; if {} is lost for good, add --repo={} to restore_command to end "
        "recovery where {}'s WAL ends",
        what, answered, failed, failed, failed, first, repoName(first));
}

Error asError(const std::exception& e) {
    if (auto* error = dynamic_cast<const Error*>(&e)) return *error;
    return Error(ErrorCode::Assert, fmt::format("unexpected failure: {}", e.what()));
}

}  // namespace

Error inRepoTerms(const Error& error, int index) {
    if (index == 1) return error;
    std::string message = error.what();
    for (auto [from, to] :
         {std::pair<std::string, std::string>{"repo1-", fmt::format("repo{}-", index)},
          {"REPO1_", fmt::format("REPO{}_", index)}}) {
        for (size_t at = message.find(from); at != std::string::npos;
             at = message.find(from, at + to.size()))
            message.replace(at, from.size(), to);
    }
    return Error(error.code(), message);
}

std::string repoName(int index) {
    return fmt::format("repo{}", index);
}

std::string describeRepo(const Config& config, int index) {
    Config view = config.repoIndex() == index ? config : config.forRepo(index);
    std::string type = view.getString(opt::repo1Type);
    std::string path = view.getString(opt::repo1Path);
    if (type == "posix") return fmt::format("{} ({})", repoName(index), path);
    return fmt::format("{} ({} {})", repoName(index), type,
                       locationOf(view).substr(type.size() + 1));
}

std::vector<int> configuredRepos(const Config& config) {
    std::vector<int> indexes = config.repoIndexes();
    std::map<std::string, int> seen;
    for (int index : indexes) {
        auto [it, fresh] = seen.emplace(locationOf(config.forRepo(index)), index);
        if (!fresh)
            raise(ErrorCode::Option,
                  "{} and {} are the same repository ({}): give each its own repo<N>-path (or "
                  "bucket, container, host); one location counted twice would make a segment "
                  "'in both' while it is in one",
                  repoName(it->second), repoName(index), it->first);
    }
    if (auto repo = config.find(opt::repo)) {
        if (*repo == "all") {
            if (config.command() != "backup")
                raise(ErrorCode::Option,
                      "option 'repo': 'all' is only for backup (one run into every repository); "
                      "{} takes a repository number (1 to 4) or no --repo",
                      config.command());
            return indexes;
        }
        int wanted = std::stoi(*repo);
        if (std::find(indexes.begin(), indexes.end(), wanted) == indexes.end()) {
            std::string list;
            for (int index : indexes) list += (list.empty() ? "" : ", ") + repoName(index);
            raise(ErrorCode::Option,
                  "option 'repo': {} is not configured (no {}-* option is set); the configured "
                  "repositories are {}",
                  repoName(wanted), repoName(wanted), list);
        }
    }
    return indexes;
}

std::vector<int> selectedRepos(const Config& config) {
    std::vector<int> indexes = configuredRepos(config);
    if (auto repo = config.find(opt::repo); repo && *repo != "all") return {std::stoi(*repo)};
    return indexes;
}

int defaultRepo(const Config& config) {
    return selectedRepos(config).front();
}

int runOnEachRepo(const Config& config, RepoCommand command) {
    std::vector<int> indexes = selectedRepos(config);
    if (indexes.size() == 1)
        return inRepo(indexes.front(), [&] { return command(config.forRepo(indexes.front())); });
    std::vector<std::pair<int, Error>> failures;
    int code = 0;
    // Text output says whose each part is; JSON is one document per repository, one per line.
    // archive-push's output goes to the server log for every segment: no headers there.
    bool text = config.command() != "archive-push" && config.getString(opt::output) != "json";
    for (int index : indexes) {
        if (text) {
            fmt::print("{}:\n", describeRepo(config, index));
            std::fflush(stdout);
        }
        try {
            code = std::max(code, inRepo(index, [&] { return command(freshView(config, index)); }));
        } catch (const std::exception& e) {
            Error error = asError(e);
            logWarn("{}: {}: {}", config.command(), describeRepo(config, index), error.what());
            failures.emplace_back(index, std::move(error));
        }
    }
    if (!failures.empty()) raiseFailures(config, failures);
    return code;
}

int runOnOneRepo(const Config& config, RepoCommand command) {
    int index = defaultRepo(config);
    return inRepo(index, [&] { return command(config.forRepo(index)); });
}

int archiveGetFromRepos(const Config& config, RepoCommand archiveGet) {
    std::vector<int> indexes = selectedRepos(config);
    if (indexes.size() == 1)
        return inRepo(indexes.front(), [&] { return archiveGet(config.forRepo(indexes.front())); });
    // The fetcher reads ahead from every selected repository, each segment from the first that
    // has it (archive_get_async.cpp); what it does not have yet is looked up in each in turn.
    SpoolAnswer spooled;
    if (config.getBool(opt::archiveAsync)) {
        spooled = archiveGetFromSpool(config, indexes);
        if (spooled.exitCode) return *spooled.exitCode;
    }
    std::vector<std::pair<int, Error>> failures;
    for (int index : indexes) {
        Config view = freshView(config, index);
        if (view.getBool(opt::archiveAsync)) view.set(opt::archiveAsync, "n");
        try {
            if (inRepo(index, [&] { return archiveGet(view); }) == 0) return 0;
        } catch (const std::exception& e) {
            Error error = asError(e);
            logWarn("archive-get: {}: {}; trying the next repository", describeRepo(config, index),
                    error.what());
            failures.emplace_back(index, std::move(error));
        }
    }
    if (!failures.empty()) raiseFailures(config, failures, readableHint(config, failures));
    // The fetcher met a failure a moment ago: "not found" now is not believed over it.
    if (spooled.recorded) throw *spooled.recorded;
    return 1;
}

namespace {

// The repositories holding backup `label` (a label may be in several); in none: an error naming
// it. A repository that cannot say whether it holds it stops the command: annotate and expire
// write, and must not leave that backup unannotated or unexpired there.
std::vector<int> reposHolding(const Config& config, const std::string& label) {
    std::vector<int> indexes = selectedRepos(config);
    std::vector<int> holding;
    for (int index : indexes) {
        Config view = freshView(config, index);
        try {
            auto info = backupInfoIn(view, index);
            if (info.find(label)) holding.push_back(index);
        } catch (const Error& e) {
            throw Error(e.code(), fmt::format("{}: {}: {}", config.command(),
                                              describeRepo(config, index), e.what()));
        }
    }
    if (holding.empty()) {
        std::string list;
        for (int index : indexes) list += (list.empty() ? "" : ", ") + repoName(index);
        raise(ErrorCode::BackupSet, "{}: backup set {} is in no repository ({}); see 'info'",
              config.command(), label, list);
    }
    return holding;
}

}  // namespace

int annotateInRepos(const Config& config, RepoCommand annotate) {
    auto label = config.find(opt::set);
    // One repository, or no --set (annotate's own error says it is required).
    if (selectedRepos(config).size() == 1 || !label) return runOnOneRepo(config, annotate);
    for (int index : reposHolding(config, *label))
        inRepo(index, [&] { return annotate(freshView(config, index)); });
    return 0;
}

int expireInRepos(const Config& config, RepoCommand expire) {
    auto label = config.find(opt::set);
    if (selectedRepos(config).size() == 1 || !label) return runOnEachRepo(config, expire);
    int code = 0;
    for (int index : reposHolding(config, *label))
        code = std::max(code, inRepo(index, [&] { return expire(freshView(config, index)); }));
    return code;
}

bool isRepositoryFault(ErrorCode code) {
    switch (code) {
        // What the repository holds or serves: the next repository's copy may be whole.
        case ErrorCode::FileMissing:  // a stored file, the manifest, a WAL segment
        case ErrorCode::FileRead:
        case ErrorCode::Format:
        case ErrorCode::Checksum:
        case ErrorCode::Compress:
        case ErrorCode::Crypto:
        case ErrorCode::Protocol:
        case ErrorCode::Network:
        case ErrorCode::RepoAuth:
        case ErrorCode::RepoStorage:
        case ErrorCode::RepoOwner:
        case ErrorCode::Stanza:
        case ErrorCode::DbMismatch:
            return true;
        // The target (not empty, a running cluster, a write, open or permission failure there:
        // FileOpen is also a repository file's, but the next repository would write the same
        // target), the options or the choice of backup (BackupSet), a lock, a signal, a bug: the
        // next repository would meet the same, or the user asked to stop.
        default:
            return false;
    }
}

namespace {

// "repo1 and repo3".
std::string repoNames(const std::vector<std::pair<int, Error>>& failures) {
    std::string list;
    for (size_t i = 0; i < failures.size(); i++)
        list += (i == 0                     ? ""
                 : i + 1 == failures.size() ? " and "
                                            : ", ") +
                repoName(failures[i].first);
    return list;
}

// pg1-path holds the marker of an unfinished restore of a backup one of these repositories holds:
// a restore that fell back and failed again leaves the fallback's label there, and running it
// again starts from the first repository, whose backup must restore over it (delta) as the
// fallback did.
bool holdsUnfinishedRestoreOf(const Config& config, const std::vector<int>& indexes) {
    auto marker = readRestoreMarker(pgPath(config));
    if (!marker) return false;
    for (int index : indexes) {
        try {
            if (backupInfoIn(freshView(config, index), index).find(marker->label)) return true;
        } catch (const std::exception&) {
            // unreadable here: the loop names it
        }
    }
    return false;
}

}  // namespace

int restoreFromRepos(const Config& config, RestoreCommand restore) {
    std::vector<int> indexes = selectedRepos(config);
    if (indexes.size() == 1)
        return inRepo(indexes.front(),
                      [&] { return restore(config.forRepo(indexes.front()), std::string()); });
    RecoverySettings recovery = recoverySettings(config);
    std::string wanted = config.find(opt::set) ? "backup " + *config.find(opt::set)
                                               : std::string("a backup that reaches the target");
    // "holds no backup X" / "holds no backup that reaches the target"
    std::string noneOf = config.find(opt::set) ? wanted : "backup that reaches the target";
    std::vector<std::pair<int, Error>> failures;
    std::string skipped;  // "repo2 (...) holds no backup --set=X; ..."
    bool overUnfinished = holdsUnfinishedRestoreOf(config, indexes);
    bool attemptFailed = false;  // a restore (not a look at backup.info) failed in this run
    for (int index : indexes) {
        try {
            Config view = freshView(config, index);
            auto info = backupInfoIn(view, index);
            if (!holdsBackupFor(view, info, recovery)) {
                logInfo("restore: {} holds no {}", describeRepo(config, index), noneOf);
                skipped += fmt::format("{}{} holds no {}", skipped.empty() ? "" : "; ",
                                       describeRepo(config, index), noneOf);
                continue;
            }
        } catch (const std::exception& e) {
            Error error = asError(e);
            logWarn("restore: {}: {}; trying the next repository", describeRepo(config, index),
                    error.what());
            failures.emplace_back(index, std::move(error));
            continue;
        }
        Config view = freshView(config, index);
        std::string note;
        if (overUnfinished) view.set(opt::delta, "y");
        if (!failures.empty()) {
            note = fmt::format("restored from {} after {} failed (see the warning{} above)",
                               describeRepo(config, index), repoNames(failures),
                               failures.size() > 1 ? "s" : "");
            // A failed attempt leaves its marker and files in pg1-path: this backup is restored
            // over them as a delta restore, which removes what it does not have and compares
            // every file by checksum (not by size and time: a file of the failed attempt may
            // have this backup's size and time with other bytes).
            if (attemptFailed && readRestoreMarker(pgPath(config))) view.set(opt::delta, "y");
        }
        logInfo("restore: from {}", describeRepo(config, index));
        try {
            return inRepo(index, [&] { return restore(view, note); });
        } catch (const Error& e) {
            if (!isRepositoryFault(e.code())) throw;
            logWarn(
                "restore: {}: {}; restoring from the next repository holding {} instead, over "
                "what this attempt wrote",
                describeRepo(config, index), e.what(), wanted);
            failures.emplace_back(index, e);
            attemptFailed = true;
        }
    }
    std::string list;
    for (int index : indexes) list += (list.empty() ? "" : ", ") + repoName(index);
    if (failures.empty())
        raise(ErrorCode::BackupSet,
              "restore: no repository ({}) holds {}; nothing was written (see the messages above)",
              list, wanted);
    std::string message;
    for (const auto& [index, error] : failures)
        message += fmt::format("{}{}: {}", message.empty() ? "" : "; ", describeRepo(config, index),
                               error.what());
    if (!skipped.empty()) message += "; " + skipped;
    // The marker is written before the first file and removed after pg_control, last: with it,
    // PostgreSQL cannot start the directory; without it, no attempt wrote into pg1-path.
    std::string dataPath = pgPath(config);
    std::string state =
        readRestoreMarker(dataPath)
            ? fmt::format(
                  "'{}' holds an unfinished restore ({} kept, no global/pg_control: "
                  "PostgreSQL cannot start it)",
                  dataPath, kRestoreMarker)
            : fmt::format("nothing was written into '{}'", dataPath);
    throw Error(failures.front().second.code(),
                fmt::format("restore: no repository ({}) could restore {}: {}; {}. Repair or "
                            "replace a repository and run the restore again",
                            list, wanted, message, state));
}

}  // namespace backrest::cmd
