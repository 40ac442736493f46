// The stanza-create step, shared by the CLI command and the daemon's stanza-create request.
#pragma once

#include <string>

#include "repo/layout.h"
#include "storage/storage.h"

namespace backrest::cmd {

// Creates backup.info and archive.info for the cluster in pgPath (idempotent for the same
// cluster; DbMismatchError for another one). Returns a sentence saying what happened.
std::string createStanza(storage::Storage& repo, const repo::Layout& layout, const std::string& pgPath);

}  // namespace backrest::cmd
