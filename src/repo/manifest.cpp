// Manifest <-> JSON.
#include "repo/manifest.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "io/file_checksum.h"
#include "repo/checksummed_json.h"
#include "repo/repo_cipher.h"

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

std::string modeString(mode_t mode) {
    return fmt::format("{:04o}", mode & 07777);
}

mode_t parseMode(const std::string& text) {
    try {
        size_t used = 0;
        unsigned long v = std::stoul(text, &used, 8);
        if (used == text.size() && v <= 07777) return static_cast<mode_t>(v);
    } catch (const std::exception&) {
    }
    raise(ErrorCode::Format, "invalid file mode '{}' in manifest", text);
}

namespace {

// JSON string escaping as nlohmann's dump() does it, so the streamed manifest is byte-identical
// to one dumped whole. Names that are not UTF-8 cannot be stored in JSON and are refused.
void appendJsonString(std::string& out, std::string_view text, const std::string& label) {
    out.push_back('"');
    for (size_t i = 0; i < text.size(); i++) {
        unsigned char c = static_cast<unsigned char>(text[i]);
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\b':
                out += "\\b";
                break;
            case '\f':
                out += "\\f";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (c < 0x20) {
                    out += fmt::format("\\u{:04x}", c);
                } else if (c < 0x80) {
                    out.push_back(static_cast<char>(c));
                } else {
                    size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
                    bool ok = n > 0 && i + n <= text.size();
                    for (size_t k = 1; ok && k < n; k++)
                        ok = (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80;
                    if (!ok)
                        raise(ErrorCode::Format,
                              "backup {}: name '{}' is not valid UTF-8 and cannot be recorded",
                              label, text);
                    out.append(text.substr(i, n));
                    i += n - 1;
                }
        }
    }
    out.push_back('"');
}

// One file entry, keys in sorted order (as nlohmann orders them).
void appendFile(std::string& out, const ManifestFile& f, const std::string& label) {
    out.push_back('{');
    if (f.blockSize != 0) out += fmt::format("\"block-size\":{},", f.blockSize);
    if (f.bundleId != 0)
        out += fmt::format("\"bundle-id\":{},\"bundle-offset\":{},", f.bundleId, f.bundleOffset);
    if (!f.frames.empty())
        out += fmt::format("\"frame-bytes\":{},\"frames\":[{}],", f.frameBytes,
                           fmt::join(f.frames, ","));
    out += "\"group\":";
    appendJsonString(out, f.group, label);
    out += fmt::format(",\"mode\":\"{}\",\"mtime\":{},\"name\":", modeString(f.mode), f.mtime);
    appendJsonString(out, f.name, label);
    if (f.pageChecked) out += ",\"page-checked\":true";
    if (!f.pageErrors.empty())
        out += fmt::format(",\"page-errors\":[{}]", fmt::join(f.pageErrors, ","));
    if (!f.reference.empty()) {
        out += ",\"reference\":";
        appendJsonString(out, f.reference, label);
    }
    if (f.referencedBlockBytes != 0)
        out += fmt::format(",\"referenced-block-bytes\":{}", f.referencedBlockBytes);
    // The checksum's key names its algorithm (io/file_checksum.h); keys stay in sorted order.
    // (saveManifest checked each checksum's form before: its length tells the algorithm.)
    bool sha256 = f.checksum.size() == 64;
    out += fmt::format(",\"repo-size\":{}", f.repoSize);
    if (sha256) {
        out += ",\"sha256\":";
        appendJsonString(out, f.checksum, label);
    }
    out += fmt::format(",\"size\":{},\"user\":", f.size);
    appendJsonString(out, f.user, label);
    if (!sha256) {
        out += ",\"xxh3\":";
        appendJsonString(out, f.checksum, label);
    }
    out.push_back('}');
}

}  // namespace

// The small parts go through nlohmann; the file list, which can hold millions of entries, is
// streamed into the text so no document of it is ever built in memory.
void saveManifest(storage::Storage& repo, const std::string& path, const Manifest& m,
                  const std::shared_ptr<const crypto::RepoKey>& key) {
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
    if (!m.annotations.empty()) doc["backup"]["annotation"] = m.annotations;
    doc["db"] = {{"version", m.pgVersion},
                 {"system-id", std::to_string(m.systemId)},
                 {"db-id", m.dbId},
                 {"wal-segment-size", m.walSegmentSize},
                 {"data-checksums", m.dataChecksums}};
    // Written only when recorded: a reader before names existed skips the key, and this one
    // tells "not recorded" from a list.
    if (m.databases) {
        json databases = json::array();
        for (const auto& d : *m.databases) databases.push_back({{"name", d.name}, {"oid", d.oid}});
        doc["db"]["databases"] = std::move(databases);
    }
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
        paths.push_back(
            {{"name", p.name}, {"mode", modeString(p.mode)}, {"user", p.user}, {"group", p.group}});
    doc["paths"] = std::move(paths);
    json links = json::array();
    for (const auto& l : m.links)
        links.push_back({{"name", l.name}, {"destination", l.destination}});
    doc["links"] = std::move(links);
    doc["files"] = json::array();

    std::string skeleton = doc.dump();
    constexpr std::string_view kFiles = "\"files\":[]";
    size_t at = skeleton.find(kFiles);
    if (at == std::string::npos) raise(ErrorCode::Assert, "manifest skeleton without a file list");
    std::string body = skeleton.substr(0, at + kFiles.size() - 1);
    body.reserve(body.size() + m.files.size() * 260 + skeleton.size());
    for (size_t i = 0; i < m.files.size(); i++) {
        const auto& f = m.files[i];
        if (f.name.empty() || !io::checksumTypeOf(f.checksum))
            raise(ErrorCode::Assert,
                  "manifest of backup {} has a file without name or checksum ('{}')", m.label,
                  f.name);
        if (i) body.push_back(',');
        appendFile(body, f, m.label);
    }
    body.append(skeleton, at + kFiles.size() - 1, std::string::npos);
    body.pop_back();  // the closing '}': the checksum goes before it
    saveChecksummedText(repo, path, sealMetadata(key, path, sealChecksummed(std::move(body))));
}

}  // namespace backrest::repo
