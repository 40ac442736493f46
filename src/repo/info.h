// backup.info and archive.info: the identity of the cluster a stanza protects (PostgreSQL
// version and system identifier, with history after upgrades) and the list of backups.
// Every push, get and backup checks the identity so a repository is never crossed with
// another cluster.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "repo/layout.h"
#include "repo/manifest.h"
#include "repo/repo_cipher.h"
#include "storage/storage.h"

namespace backrest::repo {

struct DbIdentity {
    int id = 1;
    std::string version;  // "15"
    uint64_t systemId = 0;
};

// One line per backup, copied from its manifest, so `info` need not open every manifest.
struct BackupSummary {
    std::string label, type, prior;
    int64_t timestampStart = 0, timestampStop = 0;
    std::string lsnStart, lsnStop, walStart, walStop;
    uint32_t timeline = 1;
    uint64_t size = 0, repoSize = 0, fileCount = 0;
    uint64_t pageErrorFiles = 0;  // files with invalid page checksums
    int dbId = 1;
    // pgBackRest's meanings (doc/info-json.md): `size` is the cluster's bytes, `delta` the
    // original bytes this backup copied itself, `repoSize` the repository bytes it stored itself
    // and `repoSetSize` those a restore of it reads (its own and those of the backups it refers
    // to). A backup.info written before these existed lacks them: loaded as size and repoSize.
    uint64_t delta = 0, repoSetSize = 0;
    std::vector<std::string> references;  // labels of earlier backups holding some of its files
    std::string backrestVersion;
    std::map<std::string, std::string> annotations;

    static BackupSummary of(const Manifest& manifest);
};

struct BackupInfo {
    std::vector<DbIdentity> history;     // current identity last
    std::vector<BackupSummary> backups;  // sorted by label

    const DbIdentity& current() const { return history.back(); }
    const BackupSummary* find(const std::string& label) const;
};

struct ArchiveInfo {
    std::vector<DbIdentity> history;  // current identity last

    const DbIdentity& current() const { return history.back(); }
    // "15-1": the directory under archive/<stanza>/ holding this identity's WAL.
    static std::string archiveId(const DbIdentity& db) {
        return db.version + "-" + std::to_string(db.id);
    }
    std::string currentArchiveId() const { return archiveId(current()); }
};

std::optional<BackupInfo> loadBackupInfo(storage::Storage& repo, const Layout& layout);
std::optional<ArchiveInfo> loadArchiveInfo(storage::Storage& repo, const Layout& layout);
// Like the above, but a missing file is a StanzaError telling the user to run stanza-create.
BackupInfo requireBackupInfo(storage::Storage& repo, const Layout& layout);
ArchiveInfo requireArchiveInfo(storage::Storage& repo, const Layout& layout);

// archive-get's one read of metadata (a restore_command call pays each request on an object
// store): archive.info, its .copy only when the main file is missing or damaged (warned), and the
// repository key from that file's own envelope, checked against `settings` as openRepoKey does
// (repo/repo_cipher.h). Every envelope of a stanza wraps the same key, and the sealed body must
// open with it, so the key that opens archive.info is the key of its WAL. The one departure from
// openRepoKey's rule (the highest generation of all four info files counts): during a
// stanza-rekey interrupted before archive.info was rewritten, the old passphrase still reads the
// archive (as it did before the rekey), where other commands already want the new one.
// StanzaError when neither file exists; the main file's error when neither is good.
struct OpenedArchiveInfo {
    ArchiveInfo info;
    std::shared_ptr<const crypto::RepoKey> key;  // nullptr: not encrypted
};
OpenedArchiveInfo openArchiveInfo(storage::Storage& repo, const Layout& layout,
                                  const CipherSettings& settings);
void saveBackupInfo(storage::Storage& repo, const Layout& layout, const BackupInfo& info);
void saveArchiveInfo(storage::Storage& repo, const Layout& layout, const ArchiveInfo& info);

// Raises DbMismatchError when the running cluster is not the one the stanza's current database
// (its newest db-history entry) records, naming both and pointing at stanza-upgrade.
void checkIdentity(const DbIdentity& recorded, const std::string& version, uint64_t systemId,
                   const std::string& stanza, const std::string& what);
bool sameCluster(const DbIdentity& recorded, const std::string& version, uint64_t systemId);

// stanza-upgrade's change to one info file: a cluster that is not the current database becomes
// the new current one, with the next db-id (older entries, and the backups and WAL filed under
// their ids, stay). false, and nothing added, when it already is the current one.
bool recordNewDatabase(std::vector<DbIdentity>& history, const std::string& version,
                       uint64_t systemId);

// backup.info and archive.info must name the same current database (same db-id, version and
// system identifier); FormatError naming both otherwise (pgBackRest's check after an upgrade).
void checkInfoFilesAgree(const BackupInfo& backup, const ArchiveInfo& archive,
                         const std::string& stanza);

}  // namespace backrest::repo
