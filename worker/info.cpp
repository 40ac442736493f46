// info: what a stanza holds — its cluster identity, the WAL range archived, and every backup
// with its times, LSNs, WAL range and sizes — as text for people or JSON for scripts; --set
// shows one backup in detail, --type only the backups of one type (as pgBackRest's info).
#include "worker/info.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "repo/layout.h"
#include "worker/commands.h"
#include "worker/context.h"

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

int info(const Config& config) {
    InfoQuery query = queryOf(config);
    // On the database host, drops whose record has not reached the repository yet.
    if (config.find(opt::stanza) && config.find(opt::pg1Path))
        query.pgWal = pgPath(config) + "/pg_wal";
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
    if (config.getString(opt::output) == "json") {
        fmt::print("{}\n", all.dump());
        return 0;
    }
    if (stanzas.empty()) fmt::print("No stanzas exist in the repository.\n");
    for (size_t i = 0; i < all.size(); i++) {
        if (i) fmt::print("\n");
        printInfoText(all[i]);
    }
    return 0;
}

}  // namespace backrest::cmd
