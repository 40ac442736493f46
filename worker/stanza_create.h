// The stanza-create step, shared by the CLI command and the daemon's stanza-create request.
#pragma once

#include <memory>
#include <string>

#include "common/config.h"
#include "crypto/repo_key.h"
#include "repo/layout.h"
#include "storage/storage.h"

namespace backrest::cmd {

// Creates backup.info and archive.info for the cluster in pgPath (idempotent for the same
// cluster; DbMismatchError for another one). Returns a sentence saying what happened.
std::string createStanza(storage::Storage& repo, const repo::Layout& layout,
                         const std::string& pgPath);
// The key of a new encrypted stanza (repo1-cipher-type set, no stanza yet): generated, wrapped
// under repo1-cipher-pass as generation 1 and remembered for the info files createStanza writes.
std::shared_ptr<const crypto::RepoKey> newStanzaKey(const Config& config);

}  // namespace backrest::cmd
