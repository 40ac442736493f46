// Manifest <-> JSON.
#include "repo/manifest.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "repo/checksummed_json.h"

namespace backrest::repo {

using nlohmann::json;

uint64_t Manifest::totalSize() const {
    uint64_t total = 0;
    for (const auto& f : files) total += f.size;
    return total;
}

uint64_t Manifest::totalRepoSize() const {
    uint64_t total = 0;
    for (const auto& f : files)
        if (f.reference.empty()) total += f.repoSize;
    return total;
}

uint64_t Manifest::filesWithPageErrors() const {
    uint64_t n = 0;
    for (const auto& f : files) n += f.pageErrors.empty() ? 0 : 1;
    return n;
}

std::string modeString(mode_t mode) { return fmt::format("{:04o}", mode & 07777); }

mode_t parseMode(const std::string& text) {
    try {
        size_t used = 0;
        unsigned long v = std::stoul(text, &used, 8);
        if (used == text.size() && v <= 07777) return static_cast<mode_t>(v);
    } catch (const std::exception&) {
    }
    raise(ErrorCode::Format, "invalid file mode '{}' in manifest", text);
}

void saveManifest(storage::Storage& repo, const std::string& path, const Manifest& m) {
    json doc;
    doc["format"] = m.format;
    doc["backup"] = {{"label", m.label},
                     {"type", m.type},
                     {"prior", m.prior},
                     {"timestamp-start", m.timestampStart},
                     {"timestamp-stop", m.timestampStop},
                     {"lsn-start", m.lsnStart},
                     {"lsn-stop", m.lsnStop},
                     {"wal-start", m.walStart},
                     {"wal-stop", m.walStop},
                     {"timeline", m.timeline},
                     {"backrest-version", m.backrestVersion}};
    doc["db"] = {{"version", m.pgVersion},
                 {"system-id", std::to_string(m.systemId)},
                 {"db-id", m.dbId},
                 {"wal-segment-size", m.walSegmentSize},
                 {"data-checksums", m.dataChecksums}};
    doc["options"] = {{"compress-type", m.compressType}, {"compress-level", m.compressLevel}};
    json targets = json::array();
    for (const auto& t : m.targets)
        targets.push_back({{"name", t.name},
                           {"path", t.path},
                           {"tablespace-oid", t.tablespaceOid},
                           {"tablespace-name", t.tablespaceName}});
    doc["targets"] = std::move(targets);
    json paths = json::array();
    for (const auto& p : m.paths)
        paths.push_back({{"name", p.name}, {"mode", modeString(p.mode)}, {"user", p.user}, {"group", p.group}});
    doc["paths"] = std::move(paths);
    json links = json::array();
    for (const auto& l : m.links) links.push_back({{"name", l.name}, {"destination", l.destination}});
    doc["links"] = std::move(links);
    json files = json::array();
    for (const auto& f : m.files) {
        if (f.name.empty() || f.sha256.size() != 64)
            raise(ErrorCode::Assert, "manifest of backup {} has a file without name or checksum ('{}')",
                  m.label, f.name);
        json entry = {{"name", f.name},     {"size", f.size},   {"repo-size", f.repoSize},
                      {"mtime", f.mtime},   {"mode", modeString(f.mode)},
                      {"user", f.user},     {"group", f.group}, {"sha256", f.sha256}};
        if (!f.reference.empty()) entry["reference"] = f.reference;
        if (f.blockSize != 0) entry["block-size"] = f.blockSize;
        if (f.pageChecked) entry["page-checked"] = true;
        if (!f.pageErrors.empty()) entry["page-errors"] = f.pageErrors;
        files.push_back(std::move(entry));
    }
    doc["files"] = std::move(files);
    saveChecksummed(repo, path, doc);
}

Manifest loadManifest(storage::Storage& repo, const std::string& path) {
    auto doc = loadChecksummed(repo, path);
    if (!doc)
        raise(ErrorCode::BackupSet, "backup manifest '{}' is missing: the backup is incomplete or does not exist",
              repo.fullPath(path));
    Manifest m;
    try {
        m.format = doc->at("format").get<int>();
        if (m.format != 1)
            raise(ErrorCode::Format, "manifest '{}' has format {}, this backrest reads format 1",
                  repo.fullPath(path), m.format);
        const auto& b = doc->at("backup");
        m.label = b.at("label");
        m.type = b.at("type");
        m.prior = b.at("prior");
        m.timestampStart = b.at("timestamp-start");
        m.timestampStop = b.at("timestamp-stop");
        m.lsnStart = b.at("lsn-start");
        m.lsnStop = b.at("lsn-stop");
        m.walStart = b.at("wal-start");
        m.walStop = b.at("wal-stop");
        m.timeline = b.at("timeline");
        m.backrestVersion = b.at("backrest-version");
        const auto& d = doc->at("db");
        m.pgVersion = d.at("version");
        m.systemId = std::stoull(d.at("system-id").get<std::string>());
        m.dbId = d.at("db-id");
        m.walSegmentSize = d.at("wal-segment-size");
        m.dataChecksums = d.at("data-checksums");
        const auto& o = doc->at("options");
        m.compressType = o.at("compress-type");
        m.compressLevel = o.at("compress-level");
        for (const auto& t : doc->at("targets"))
            m.targets.push_back({t.at("name"), t.at("path"), t.at("tablespace-oid"), t.at("tablespace-name")});
        for (const auto& p : doc->at("paths"))
            m.paths.push_back({p.at("name"), parseMode(p.at("mode")), p.at("user"), p.at("group")});
        for (const auto& l : doc->at("links")) m.links.push_back({l.at("name"), l.at("destination")});
        m.files.reserve(doc->at("files").size());
        for (const auto& f : doc->at("files")) {
            ManifestFile file;
            file.name = f.at("name");
            file.size = f.at("size");
            file.repoSize = f.at("repo-size");
            file.mtime = f.at("mtime");
            file.mode = parseMode(f.at("mode"));
            file.user = f.at("user");
            file.group = f.at("group");
            file.sha256 = f.at("sha256");
            if (f.contains("reference")) file.reference = f.at("reference");
            file.blockSize = f.value("block-size", 0u);
            file.pageChecked = f.value("page-checked", false);
            if (f.contains("page-errors")) file.pageErrors = f.at("page-errors").get<std::vector<uint32_t>>();
            m.files.push_back(std::move(file));
        }
    } catch (const nlohmann::json::exception& e) {
        raise(ErrorCode::Format, "manifest '{}' is malformed: {}", repo.fullPath(path), e.what());
    } catch (const std::logic_error& e) {  // stoull
        raise(ErrorCode::Format, "manifest '{}' is malformed: {}", repo.fullPath(path), e.what());
    }
    return m;
}

}  // namespace backrest::repo
