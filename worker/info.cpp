// info: what a stanza holds — its cluster identity, the WAL range archived, and every backup
// with its times, LSNs, WAL range and sizes — as text for people or JSON for scripts; --set
// shows one backup in detail, --type only the backups of one type (as pgBackRest's info).
#include "worker/info.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "repo/layout.h"
#include "worker/commands.h"
#include "worker/context.h"
#include "worker/multi_repo.h"

namespace backrest::cmd {

namespace {

InfoQuery queryOf(const Config& config) {
    InfoQuery query;
    query.set = config.find(opt::set).value_or("");
    query.type = config.find(opt::type).value_or("");
    query.lockPath = config.getString(opt::lockPath);
    if (!query.type.empty() && query.type != "full" && query.type != "diff" && query.type != "incr")
        raise(ErrorCode::Option, "info: --type={} is not a backup type; use full, diff or incr",
              query.type);
    if (!query.set.empty() && !config.find(opt::stanza))
        raise(ErrorCode::Option,
              "info: --set={} needs --stanza (a label names a backup "
              "of one stanza)",
              query.set);
    return query;
}

}  // namespace

// One repository's stanzas (config: its forRepo view), every repo-key set to its index.
nlohmann::json repoStanzasJson(const Config& config, const InfoQuery& query,
                               const StanzaJsonOf& jsonOf) {
    auto repo = openRepo(config);
    std::vector<std::string> stanzas;
    if (auto stanza = config.find(opt::stanza)) {
        stanzaLayout(config);  // validates the name
        stanzas.push_back(*stanza);
    } else {
        for (const auto& e : repo->list("backup"))
            if (e.type == storage::FileType::Path) stanzas.push_back(e.name);
        std::sort(stanzas.begin(), stanzas.end());
    }
    nlohmann::json all = nlohmann::json::array();
    for (const auto& s : stanzas) {
        // With --stanza, openRepo opened its key; each listed stanza is opened here.
        repo::Layout layout = config.find(opt::stanza)
                                  ? stanzaLayout(config)
                                  : repo::Layout{s, openStanzaKey(config, *repo, s)};
        all.push_back(jsonOf ? jsonOf(*repo, layout) : stanzaInfoJson(*repo, layout, query));
    }
    setRepoKey(all, config.repoIndex());
    return all;
}

nlohmann::json mergeStanzas(const std::vector<nlohmann::json>& perRepo) {
    nlohmann::json merged = nlohmann::json::array();
    std::map<std::string, size_t> at;
    for (const auto& stanzas : perRepo) {
        for (const auto& stanza : stanzas) {
            std::string name = stanza.value("name", "");
            auto [it, fresh] = at.emplace(name, merged.size());
            if (fresh) {
                merged.push_back(stanza);
                continue;
            }
            nlohmann::json& into = merged[it->second];
            for (const char* list : {"backup", "archive", "db", "repo", "drill"})
                if (stanza.contains(list))
                    for (const auto& item : stanza[list]) into[list].push_back(item);
            if (into.contains("status") && stanza.contains("status") &&
                into["status"].value("code", 0) != stanza["status"].value("code", 0))
                into["status"] = {{"code", 4}, {"message", "different across repos"}};
        }
    }
    for (auto& stanza : merged)
        if (stanza.contains("backup"))
            std::stable_sort(stanza["backup"].begin(), stanza["backup"].end(),
                             [](const nlohmann::json& a, const nlohmann::json& b) {
                                 return a.value("label", "") < b.value("label", "");
                             });
    return merged;
}

void setRepoKey(nlohmann::json& node, int index) {
    if (node.is_object()) {
        for (auto& [key, value] : node.items()) {
            if (key == "repo-key" && value.is_number())
                value = index;
            else if (key == "repo" && value.is_array())
                for (auto& repo : value)
                    if (repo.is_object() && repo.contains("key")) repo["key"] = index;
            setRepoKey(value, index);
        }
    } else if (node.is_array()) {
        for (auto& item : node) setRepoKey(item, index);
    }
}

void addFailedRepo(nlohmann::json& stanzas, int index, const std::string& cipher,
                   const std::string& message) {
    for (auto& stanza : stanzas) {
        stanza["repo"].push_back(
            {{"key", index}, {"cipher", cipher}, {"status", {{"code", 99}, {"message", message}}}});
        stanza["status"]["code"] = 4;
        stanza["status"]["message"] = "different across repos";
    }
}

int info(const Config& config) {
    InfoQuery query = queryOf(config);
    // On the database host, drops whose record has not reached the repository yet.
    if (config.find(opt::stanza) && config.find(opt::pg1Path))
        query.pgWal = pgPath(config) + "/pg_wal";
    std::vector<int> repos = selectedRepos(config);
    std::vector<nlohmann::json> perRepo;
    // A repository that cannot be read does not hide what the others hold; it is named in the
    // output and the exit status is its error's, so a cron job that checks only the status
    // still learns of it (pgBackRest exits 0 and reports it in the status alone).
    std::vector<int> answered;
    std::vector<std::pair<int, Error>> failures;
    for (int index : repos) {
        useRepoKey(nullptr);  // each repository's own key, never the last one's
        try {
            perRepo.push_back(repoStanzasJson(config.forRepo(index), query));
            answered.push_back(index);
        } catch (const Error& e) {
            if (repos.size() == 1) throw;
            failures.emplace_back(index, inRepoTerms(e, index));
        }
    }
    std::string failed;
    for (const auto& [index, error] : failures)
        failed += fmt::format("{}{}: {}", failed.empty() ? "" : "; ", describeRepo(config, index),
                              error.what());
    if (answered.empty())
        throw Error(failures.front().second.code(), fmt::format("info: {}", failed));
    bool json = config.getString(opt::output) == "json";
    if (json) {
        nlohmann::json merged = mergeStanzas(perRepo);
        for (const auto& [index, error] : failures)
            addFailedRepo(merged, index, config.forRepo(index).getString(opt::repo1CipherType),
                          error.what());
        fmt::print("{}\n", merged.dump());
    } else {
        size_t next = 0;
        for (size_t r = 0; r < repos.size(); r++) {
            // One repository prints as before; several each under their name.
            if (repos.size() > 1)
                fmt::print("{}{}:\n", r ? "\n" : "", describeRepo(config, repos[r]));
            auto failure = std::find_if(failures.begin(), failures.end(),
                                        [&](const auto& f) { return f.first == repos[r]; });
            if (failure != failures.end()) {
                fmt::print("    status: error (other): {}\n", failure->second.what());
                continue;
            }
            const auto& all = perRepo[next++];
            if (all.empty()) fmt::print("No stanzas exist in the repository.\n");
            for (size_t i = 0; i < all.size(); i++) {
                if (i) fmt::print("\n");
                printInfoText(all[i]);
            }
        }
    }
    if (!failures.empty()) {
        std::fflush(stdout);
        throw Error(failures.front().second.code(),
                    fmt::format("info: {} of {} repositories failed: {}", failures.size(),
                                repos.size(), failed));
    }
    return 0;
}

}  // namespace backrest::cmd
