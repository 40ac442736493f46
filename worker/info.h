// The info of one stanza as JSON: shared by `backrest info --output=json` and the daemon's
// info request (backrest_info() in SQL).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "repo/layout.h"
#include "storage/storage.h"

namespace backrest::cmd {

nlohmann::json stanzaInfoJson(storage::Storage& repo, const repo::Layout& layout);

}  // namespace backrest::cmd
