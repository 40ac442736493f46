// info: what a stanza holds — its cluster identity, the WAL range archived, and every backup
// with its times, LSNs, WAL range and sizes — as text for people or JSON for scripts; --set
// shows one backup in detail, --type only the backups of one type (as pgBackRest's info).
#include "worker/info.h"

#include <fmt/format.h>

#include <algorithm>
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

// One repository's stanzas (config: its forRepo view), every repo-key set to its index.
nlohmann::json repoInfo(const Config& config, const InfoQuery& query) {
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
        all.push_back(stanzaInfoJson(*repo, layout, query));
    }
    setRepoKey(all, config.repoIndex());
    return all;
}

}  // namespace

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
            for (const char* list : {"backup", "archive", "db", "repo"})
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

int info(const Config& config) {
    InfoQuery query = queryOf(config);
    // On the database host, drops whose record has not reached the repository yet.
    if (config.find(opt::stanza) && config.find(opt::pg1Path))
        query.pgWal = pgPath(config) + "/pg_wal";
    std::vector<int> repos = selectedRepos(config);
    std::vector<nlohmann::json> perRepo;
    for (int index : repos) {
        useRepoKey(nullptr);  // each repository's own key, never the last one's
        try {
            perRepo.push_back(repoInfo(config.forRepo(index), query));
        } catch (const Error& e) {
            if (repos.size() == 1) throw;
            throw Error(e.code(),
                        fmt::format("info: {}: {}", describeRepo(config, index), e.what()));
        }
    }
    bool json = config.getString(opt::output) == "json";
    if (json) {
        fmt::print("{}\n", mergeStanzas(perRepo).dump());
        return 0;
    }
    for (size_t r = 0; r < repos.size(); r++) {
        const auto& all = perRepo[r];
        // One repository prints as before; several each under their name.
        if (repos.size() > 1) fmt::print("{}{}:\n", r ? "\n" : "", describeRepo(config, repos[r]));
        if (all.empty()) fmt::print("No stanzas exist in the repository.\n");
        for (size_t i = 0; i < all.size(); i++) {
            if (i) fmt::print("\n");
            printInfoText(all[i]);
        }
    }
    return 0;
}

}  // namespace backrest::cmd
