// Loading and saving backup.info / archive.info.
#include "repo/info.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "common/error.h"
#include "repo/checksummed_json.h"
#include "repo/repo_cipher.h"

namespace backrest::repo {

using nlohmann::json;

namespace {

json historyJson(const std::vector<DbIdentity>& history) {
    json out = json::array();
    for (const auto& db : history)
        out.push_back({{"db-id", db.id},
                       {"version", db.version},
                       {"system-id", std::to_string(db.systemId)}});
    return out;
}

// A newer format may mean things this backrest would misread: refuse it rather than guess.
void checkFormat(const json& doc, const std::string& path) {
    int format = doc.value("format", 0);
    if (format != kRepoFormat)
        raise(ErrorCode::Format, "'{}' has format {}, this backrest reads format {}", path, format,
              kRepoFormat);
}

std::vector<DbIdentity> parseHistory(const json& j) {
    std::vector<DbIdentity> out;
    for (const auto& db : j)
        out.push_back({db.at("db-id").get<int>(), db.at("version").get<std::string>(),
                       std::stoull(db.at("system-id").get<std::string>())});
    if (out.empty()) throw std::invalid_argument("empty db-history");
    return out;
}

template <typename Parse>
auto parseOrRaise(const std::string& path, Parse parse) {
    try {
        return parse();
    } catch (const nlohmann::json::exception& e) {
        raise(ErrorCode::Format, "'{}' is malformed: {}", path, e.what());
    } catch (const std::logic_error& e) {
        raise(ErrorCode::Format, "'{}' is malformed: {}", path, e.what());
    }
}

// An encrypted repository's info file keeps the envelope that counts (repo/repo_cipher.h).
void saveInfo(storage::Storage& repo, const Layout& layout, const std::string& path,
              const json& doc) {
    if (!layout.key) return saveChecksummed(repo, path, doc);
    saveChecksummedText(
        repo, path,
        sealInfoText(envelopeForWrite(repo, layout), *layout.key, path, serializeChecksummed(doc)));
}

}  // namespace

BackupSummary BackupSummary::of(const Manifest& m) {
    BackupSummary s;
    s.label = m.label;
    s.type = m.type;
    s.prior = m.prior;
    s.timestampStart = m.timestampStart;
    s.timestampStop = m.timestampStop;
    s.lsnStart = m.lsnStart;
    s.lsnStop = m.lsnStop;
    s.walStart = m.walStart;
    s.walStop = m.walStop;
    s.timeline = m.timeline;
    s.size = m.totalSize();
    s.repoSize = m.totalRepoSize();
    s.fileCount = m.files.size();
    s.pageErrorFiles = m.filesWithPageErrors();
    s.dbId = m.dbId;
    std::set<std::string> references;
    for (const auto& f : m.files) {
        s.repoSetSize += f.repoSize + f.referencedBlockBytes;  // what a restore reads of it
        if (f.reference.empty())
            s.delta += f.size;
        else
            references.insert(f.reference);
    }
    s.references.assign(references.begin(), references.end());  // labels sort by time
    s.backrestVersion = m.backrestVersion;
    s.annotations = m.annotations;
    return s;
}

const BackupSummary* BackupInfo::find(const std::string& label) const {
    for (const auto& b : backups)
        if (b.label == label) return &b;
    return nullptr;
}

std::optional<BackupInfo> loadBackupInfo(storage::Storage& repo, const Layout& layout) {
    auto doc = loadChecksummed(repo, layout.backupInfo(), layout.key);
    if (!doc) return std::nullopt;
    return parseOrRaise(repo.fullPath(layout.backupInfo()), [&] {
        checkFormat(*doc, repo.fullPath(layout.backupInfo()));
        BackupInfo info;
        info.history = parseHistory(doc->at("db-history"));
        for (const auto& b : doc->at("backups")) {
            BackupSummary s;
            s.label = b.at("label");
            s.type = b.at("type");
            s.prior = b.at("prior");
            s.timestampStart = b.at("timestamp-start");
            s.timestampStop = b.at("timestamp-stop");
            s.lsnStart = b.at("lsn-start");
            s.lsnStop = b.at("lsn-stop");
            s.walStart = b.at("wal-start");
            s.walStop = b.at("wal-stop");
            s.timeline = b.at("timeline");
            s.size = b.at("size");
            s.repoSize = b.at("repo-size");
            s.fileCount = b.at("file-count");
            s.pageErrorFiles = b.value("page-error-files", uint64_t{0});
            s.dbId = b.at("db-id");
            s.delta = b.value("delta", s.size);
            s.repoSetSize = b.value("repo-set-size", s.repoSize);
            s.references = b.value("reference", std::vector<std::string>{});
            s.backrestVersion = b.value("backrest-version", std::string{});
            s.annotations = b.value("annotation", std::map<std::string, std::string>{});
            info.backups.push_back(std::move(s));
        }
        return info;
    });
}

namespace {

ArchiveInfo archiveInfoOf(const json& doc, const std::string& context) {
    return parseOrRaise(context, [&] {
        checkFormat(doc, context);
        ArchiveInfo info;
        info.history = parseHistory(doc.at("db-history"));
        return info;
    });
}

[[noreturn]] void raiseNoStanza(storage::Storage& repo, const Layout& layout,
                                const std::string& missing) {
    raise(ErrorCode::Stanza,
          "stanza '{}' does not exist in repository '{}' (no {}); run 'backrest --stanza={} "
          "stanza-create' first",
          layout.stanza, repo.fullPath(""), missing, layout.stanza);
}

}  // namespace

std::optional<ArchiveInfo> loadArchiveInfo(storage::Storage& repo, const Layout& layout) {
    auto doc = loadChecksummed(repo, layout.archiveInfo(), layout.key);
    if (!doc) return std::nullopt;
    return archiveInfoOf(*doc, repo.fullPath(layout.archiveInfo()));
}

OpenedArchiveInfo openArchiveInfo(storage::Storage& repo, const Layout& layout,
                                  const CipherSettings& settings) {
    const std::string path = layout.archiveInfo();
    std::optional<Error> firstError;
    bool any = false;
    for (const std::string& candidate : {path, path + ".copy"}) {
        auto stored = storage::readAllIfExists(repo, candidate);
        if (!stored) continue;
        any = true;
        const std::string context = repo.fullPath(candidate);
        try {
            RepoCipherScan scan;
            scan.state = RepoCipherState::Plain;
            if (auto envelope = readEnvelopeLine(*stored, context)) {
                scan.state = RepoCipherState::Encrypted;
                scan.counted = CountedEnvelope{*envelope, candidate, envelope->generation};
            }
            OpenedArchiveInfo opened;
            opened.key = openScannedKey(repo, layout, scan, settings, candidate);
            std::string text = openMetadata(opened.key, path, std::move(*stored), context);
            verifyChecksummed(text, context);
            json doc = json::parse(text, nullptr, false);
            if (doc.is_discarded()) raise(ErrorCode::Format, "'{}' is not valid JSON", context);
            opened.info = archiveInfoOf(doc, context);
            return opened;
        } catch (const Error& e) {
            warnDamagedCopy(e.what());
            if (!firstError) firstError = e;
        }
    }
    if (!any) raiseNoStanza(repo, layout, path);
    throw *firstError;
}

BackupInfo requireBackupInfo(storage::Storage& repo, const Layout& layout) {
    auto info = loadBackupInfo(repo, layout);
    if (!info)
        raise(ErrorCode::Stanza,
              "stanza '{}' does not exist in repository '{}' (no {}); run 'backrest --stanza={} "
              "stanza-create' first",
              layout.stanza, repo.fullPath(""), layout.backupInfo(), layout.stanza);
    return *info;
}

ArchiveInfo requireArchiveInfo(storage::Storage& repo, const Layout& layout) {
    auto info = loadArchiveInfo(repo, layout);
    if (!info) raiseNoStanza(repo, layout, layout.archiveInfo());
    return *info;
}

void saveBackupInfo(storage::Storage& repo, const Layout& layout, const BackupInfo& info) {
    json backups = json::array();
    auto sorted = info.backups;
    std::sort(sorted.begin(), sorted.end(), [](auto& a, auto& b) { return a.label < b.label; });
    for (const auto& s : sorted) {
        backups.push_back({{"label", s.label},
                           {"type", s.type},
                           {"prior", s.prior},
                           {"timestamp-start", s.timestampStart},
                           {"timestamp-stop", s.timestampStop},
                           {"lsn-start", s.lsnStart},
                           {"lsn-stop", s.lsnStop},
                           {"wal-start", s.walStart},
                           {"wal-stop", s.walStop},
                           {"timeline", s.timeline},
                           {"size", s.size},
                           {"repo-size", s.repoSize},
                           {"file-count", s.fileCount},
                           {"page-error-files", s.pageErrorFiles},
                           {"db-id", s.dbId},
                           {"delta", s.delta},
                           {"repo-set-size", s.repoSetSize},
                           {"reference", s.references},
                           {"backrest-version", s.backrestVersion}});
        if (!s.annotations.empty()) backups.back()["annotation"] = s.annotations;
    }
    json doc = {
        {"format", kRepoFormat}, {"db-history", historyJson(info.history)}, {"backups", backups}};
    saveInfo(repo, layout, layout.backupInfo(), doc);
}

void saveArchiveInfo(storage::Storage& repo, const Layout& layout, const ArchiveInfo& info) {
    json doc = {{"format", kRepoFormat}, {"db-history", historyJson(info.history)}};
    saveInfo(repo, layout, layout.archiveInfo(), doc);
}

bool sameCluster(const DbIdentity& recorded, const std::string& version, uint64_t systemId) {
    return recorded.systemId == systemId && recorded.version == version;
}

void checkIdentity(const DbIdentity& recorded, const std::string& version, uint64_t systemId,
                   const std::string& stanza, const std::string& what) {
    if (!sameCluster(recorded, version, systemId))
        raise(ErrorCode::DbMismatch,
              "{}: PostgreSQL {} with system identifier {} does not match stanza '{}', which was "
              "created for PostgreSQL {} with system identifier {} (db-id {}); after a pg_upgrade "
              "or a new initdb of this cluster run 'backrest --stanza={} stanza-upgrade', "
              "otherwise check that this is the right stanza and repository",
              what, version, systemId, stanza, recorded.version, recorded.systemId, recorded.id,
              stanza);
}

bool recordNewDatabase(std::vector<DbIdentity>& history, const std::string& version,
                       uint64_t systemId) {
    if (!history.empty() && sameCluster(history.back(), version, systemId)) return false;
    int next = 1;
    for (const auto& db : history) next = std::max(next, db.id + 1);
    history.push_back({next, version, systemId});
    return true;
}

void checkInfoFilesAgree(const BackupInfo& backup, const ArchiveInfo& archive,
                         const std::string& stanza) {
    const DbIdentity &b = backup.current(), &a = archive.current();
    if (b.id != a.id || !sameCluster(b, a.version, a.systemId))
        raise(ErrorCode::Format,
              "stanza '{}': backup.info and archive.info do not name the same current database "
              "(backup.info: db-id {}, PostgreSQL {}, system identifier {}; archive.info: db-id "
              "{}, PostgreSQL {}, system identifier {}); the repository may be damaged",
              stanza, b.id, b.version, b.systemId, a.id, a.version, a.systemId);
}

}  // namespace backrest::repo
