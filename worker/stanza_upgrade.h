// stanza-upgrade: after a pg_upgrade or a new initdb of the stanza's cluster, records the new
// PostgreSQL (version, system identifier) as the stanza's current database, so backups and WAL
// continue under a new db-id while the old ones stay listed and restorable.
#pragma once

#include <string>

#include "repo/layout.h"
#include "storage/storage.h"

namespace backrest::cmd {

// Adds the cluster in pgPath to archive.info, then to backup.info, each only where it is not the
// current database already (so a run interrupted between the two is finished by running it
// again). Returns a sentence saying what happened ("already up to date" when nothing changed).
// StanzaError when the stanza does not exist; FormatError when the two files then disagree.
std::string upgradeStanza(storage::Storage& repo, const repo::Layout& layout,
                          const std::string& pgPath);

}  // namespace backrest::cmd
