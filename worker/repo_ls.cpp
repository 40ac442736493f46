// repo-ls: the repository's entries under a path, as pgBackRest's.
#include "worker/repo_ls.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <regex>

#include "common/error.h"
#include "worker/commands.h"
#include "worker/context.h"
#include "worker/repo_path.h"

namespace backrest::cmd {

std::string repoRelativePath(std::string path, const std::string& repoRoot) {
    if (path.find("//") != std::string::npos)
        raise(ErrorCode::Command, "path '{}' cannot contain //", path);
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    if (!path.starts_with("/")) return path;
    std::string root = repoRoot;
    while (root.size() > 1 && root.back() == '/') root.pop_back();
    if (path == root) return "";
    if (root == "/") return path.substr(1);
    if (!path.starts_with(root + "/"))
        raise(ErrorCode::Command, "absolute path '{}' is not in base path '{}'", path, repoRoot);
    return path.substr(root.size() + 1);
}

std::optional<std::string> historyFileName(std::string_view repoPath) {
    static const std::regex stored("^archive/[^/]+/[^/]+/([0-9A-F]{8}\\.history)-[0-9a-f]{64}$");
    std::match_results<std::string_view::const_iterator> match;
    if (!std::regex_match(repoPath.begin(), repoPath.end(), match, stored)) return std::nullopt;
    return match[1].str();
}

namespace {

const char* typeName(storage::FileType type) {
    switch (type) {
        case storage::FileType::File:
            return "file";
        case storage::FileType::Path:
            return "path";
        case storage::FileType::Link:
            return "link";
        case storage::FileType::Special:
            return "special";
    }
    return "special";
}

// One listing, written as it is walked: a million WAL files never sit in memory as text.
class Lister {
  public:
    Lister(storage::Storage& repo, const RepoListOptions& options,
           const std::function<void(std::string_view)>& out)
        : repo_(repo), options_(options), out_(out) {
        if (options.filter) {
            try {
                regex_.emplace(*options.filter, std::regex::extended);
            } catch (const std::regex_error& e) {
                raise(ErrorCode::Option,
                      "option 'filter': '{}' is not a valid regular expression: {}",
                      *options.filter, e.what());
            }
        }
    }

    // `stored`: the stored name of a history file listed by its WAL name (historyFileName).
    void emit(const storage::FileInfo& info, const std::string& name,
              const std::string& stored = {}) {
        if (regex_ && !std::regex_search(name, *regex_)) return;
        if (!options_.json) {
            out_(name + "\n");
            return;
        }
        std::string entry = fmt::format("{}{}:{{\"type\":\"{}\"", first_ ? "" : ",",
                                        nlohmann::json(name).dump(), typeName(info.type));
        first_ = false;
        if (info.type == storage::FileType::File)
            entry += fmt::format(",\"size\":{},\"time\":{}", info.size, info.mtime);
        if (info.type == storage::FileType::Link)
            entry += ",\"destination\":" + nlohmann::json(info.linkDestination).dump();
        if (!stored.empty()) entry += ",\"stored\":" + nlohmann::json(stored).dump();
        out_(entry + "}");
    }

    void walk(const std::string& path, const std::string& relative) {
        auto entries = repo_.list(path, true);
        if (options_.order != ListOrder::None)
            std::sort(entries.begin(), entries.end(),
                      [](const auto& a, const auto& b) { return a.name < b.name; });
        if (options_.order == ListOrder::Desc) std::reverse(entries.begin(), entries.end());
        for (const auto& e : entries) {
            std::string full = path.empty() ? e.name : path + "/" + e.name;
            auto history = e.type == storage::FileType::File ? historyFileName(full) : std::nullopt;
            std::string shown = history.value_or(e.name);
            std::string name = relative.empty() ? shown : relative + "/" + shown;
            std::string stored = history ? e.name : "";
            if (options_.order != ListOrder::Desc) emit(e, name, stored);
            if (options_.recurse && e.type == storage::FileType::Path) walk(full, name);
            if (options_.order == ListOrder::Desc) emit(e, name, stored);
        }
    }

  private:
    storage::Storage& repo_;
    const RepoListOptions& options_;
    const std::function<void(std::string_view)>& out_;
    std::optional<std::regex> regex_;
    bool first_ = true;
};

}  // namespace

void listRepo(storage::Storage& repo, const std::string& path, const RepoListOptions& options,
              const std::function<void(std::string_view)>& out) {
    Lister lister(repo, options, out);
    if (options.json) out("{");
    auto info = path.empty() ? std::nullopt : repo.info(path);
    if (info && info->type == storage::FileType::File) {
        lister.emit(*info, ".");
    } else {
        // The path is always reported, as pgBackRest does: an object store has no empty paths.
        if (options.json) {
            storage::FileInfo dot;
            dot.name = ".";
            dot.type = storage::FileType::Path;
            lister.emit(dot, ".");
        }
        lister.walk(path, "");
    }
    if (options.json) out("}\n");
}

int repoLs(const Config& config) {
    if (config.params().size() > 1) raise(ErrorCode::Command, "only one path may be specified");
    std::string given = config.params().empty() ? "" : config.params()[0];
    std::string path = repoRelativePath(given, config.getString(opt::repo1Path));
    requireInsideRepository(path, given, config.getString(opt::repo1Path));
    RepoListOptions options;
    options.json = config.getString(opt::output) == "json";
    options.filter = config.find(opt::filter);
    options.recurse = config.getBool(opt::recurse);
    std::string sort = config.getString(opt::sort);
    options.order = sort == "desc"   ? ListOrder::Desc
                    : sort == "none" ? ListOrder::None
                                     : ListOrder::Asc;
    auto repo = openRepoStorage(config, RepoAccess::Read);
    listRepo(*repo, path, options,
             [](std::string_view text) { std::fwrite(text.data(), 1, text.size(), stdout); });
    return 0;
}

}  // namespace backrest::cmd
