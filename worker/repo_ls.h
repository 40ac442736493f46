// repo-ls and repo-get read the repository as it is stored, by its relative paths, on every
// driver: pgBackRest 2.45's commands and output, which scripts and check_pgbackrest parse.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "storage/storage.h"

namespace backrest::cmd {

// pgBackRest's repoPathIsValid: a path relative to the repository, from a relative one or an
// absolute one under `repoRoot` (repo1-path); "//" and a path outside the repository are
// CommandError. A trailing '/' is dropped.
std::string repoRelativePath(std::string path, const std::string& repoRoot);

// A timeline history file at the root of an archive id is stored as <tl>.history-<sha256>
// (doc/repository-format.md). repo-ls names it <tl>.history, the name PostgreSQL gave it and the
// one pgBackRest stores it under, so that a tool reading pgBackRest's layout finds it
// (check_pgbackrest reads the timeline switch points from <tl>.history); its JSON entry keeps the
// stored name in "stored", and repo-get reads it by either name. For a repository-relative path:
// the history file's name ("00000002.history") when it is such a file, else nullopt.
std::optional<std::string> historyFileName(std::string_view repoPath);

enum class ListOrder { Asc, Desc, None };

struct RepoListOptions {
    bool json = false;
    std::optional<std::string> filter = {};  // POSIX extended regex on the (relative) name
    bool recurse = false;
    ListOrder order = ListOrder::Asc;
};

// Writes the listing of `path` to `out`, as pgBackRest's repo-ls: text, one name a line; json,
// one object {"<name>": {"type": "file|path|link|special", "size", "time" (files),
// "destination" (links), "stored" (a history file, above)}}, "." being the path itself (a file
// given as the path is listed as "."). With recurse, names are relative to `path`
// ("0000000100000000/0000…"); asc is the tree's order (a path before what is in it), desc its exact
// reverse.
void listRepo(storage::Storage& repo, const std::string& path, const RepoListOptions& options,
              const std::function<void(std::string_view)>& out);

}  // namespace backrest::cmd
