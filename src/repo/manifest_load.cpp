// Loading a manifest: the text is verified against its checksum, then each entry of the file
// list — nearly all of a large manifest — is parsed with simdjson's On-Demand parser straight
// into a ManifestFile (a million files never exist as a JSON document, and load 3x faster than
// through nlohmann's SAX parser); the small sections (backup, db, targets, paths, …) go through
// nlohmann as before.
#include <simdjson.h>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "io/file_checksum.h"
#include "repo/checksummed_json.h"
#include "repo/manifest.h"

namespace backrest::repo {

namespace {

using nlohmann::json;
namespace od = simdjson::ondemand;

// Where the top-level "files" array and each of its elements are in the text. A small scanner
// (strings and nesting only) finds them, so each entry is parsed alone: simdjson's index of a
// whole 200 MB manifest would take as much memory again as the text. The pieces themselves are
// then parsed, and so validated, by simdjson and nlohmann.
struct FileListSpan {
    size_t open = std::string::npos, close = std::string::npos;  // the array's '[' and ']'
    std::vector<std::pair<size_t, size_t>> entries;              // [begin, end) of each element
};

FileListSpan findFileList(std::string_view text) {
    FileListSpan span;
    int depth = 0;
    size_t keyBegin = 0, keyEnd = 0;  // the last string seen at depth 1
    bool afterFilesKey = false;
    size_t entryBegin = 0;
    for (size_t i = 0; i < text.size(); i++) {
        char c = text[i];
        if (c == '"') {
            size_t start = ++i;
            while (i < text.size() && text[i] != '"') i += text[i] == '\\' ? 2 : 1;
            if (i >= text.size()) raise(ErrorCode::Format, "a string is not terminated");
            if (depth == 1) keyBegin = start, keyEnd = i;
            continue;
        }
        switch (c) {
            case ':':
                if (depth == 1) afterFilesKey = text.substr(keyBegin, keyEnd - keyBegin) == "files";
                break;
            case '{':
            case '[':
                depth++;
                if (depth == 2 && afterFilesKey) {
                    if (c != '[') raise(ErrorCode::Format, "\"files\" is not an array");
                    if (span.open != std::string::npos)
                        raise(ErrorCode::Format, "\"files\" appears twice");
                    span.open = i;
                } else if (depth == 3 && span.open != std::string::npos &&
                           span.close == std::string::npos) {
                    if (c != '{')
                        raise(ErrorCode::Format, "an entry of \"files\" is not an object");
                    entryBegin = i;
                }
                break;
            case '}':
            case ']':
                if (depth == 3 && span.open != std::string::npos && span.close == std::string::npos)
                    span.entries.emplace_back(entryBegin, i + 1);
                if (depth == 2 && afterFilesKey && span.close == std::string::npos &&
                    span.open != std::string::npos)
                    span.close = i, afterFilesKey = false;
                if (--depth < 0) raise(ErrorCode::Format, "unbalanced '{}' at byte {}", c, i);
                break;
            default:
                break;
        }
    }
    if (depth != 0) raise(ErrorCode::Format, "the text ends inside an object or array");
    if (span.open == std::string::npos) raise(ErrorCode::Format, "it has no \"files\" list");
    return span;
}

std::string stringOf(od::value v) {
    return std::string(std::string_view(v.get_string()));
}

// A frame index must describe the stored file exactly: a restore writes frame k at
// k × frame-bytes, so a wrong count or size would put bytes in the wrong place.
void checkFrames(const ManifestFile& f) {
    if (f.frames.empty() && f.frameBytes == 0) return;
    if (f.frameBytes == 0 || f.frames.empty())
        raise(ErrorCode::Format,
              "file '{}' has \"frames\" without \"frame-bytes\" or the other way round", f.name);
    if (f.blockSize != 0)
        raise(ErrorCode::Format, "file '{}' is stored as blocks and as frames", f.name);
    uint64_t count = f.size == 0 ? 1 : (f.size + f.frameBytes - 1) / f.frameBytes;
    if (f.frames.size() != count)
        raise(ErrorCode::Format, "file '{}' has {} frames, {} bytes in frames of {} need {}",
              f.name, f.frames.size(), f.size, f.frameBytes, count);
    uint64_t sum = 0;
    for (uint64_t n : f.frames) sum += n;
    if (sum != f.repoSize)
        raise(ErrorCode::Format, "file '{}' has frames of {} bytes in all, its repo-size is {}",
              f.name, sum, f.repoSize);
}

// A bundled file is one zstd stream (or plain bytes) inside its bundle: never frames or blocks.
void checkBundle(const ManifestFile& f) {
    if (f.bundleId == 0) {
        if (f.bundleOffset != 0)
            raise(ErrorCode::Format, "file '{}' has \"bundle-offset\" without \"bundle-id\"",
                  f.name);
        return;
    }
    if (f.blockSize != 0 || !f.frames.empty())
        raise(ErrorCode::Format, "file '{}' is stored in bundle {} and as {}", f.name, f.bundleId,
              f.blockSize != 0 ? "blocks" : "frames");
}

// One entry of "files". Unknown keys are skipped: a later minor format may add fields. A
// checksum's key names its algorithm and its value must be that algorithm's length of hex.
ManifestFile parseFile(od::object entry) {
    ManifestFile f;
    std::string key;
    try {
        for (auto field : entry) {
            key = std::string(std::string_view(field.unescaped_key()));
            od::value v = field.value();
            if (key == "name")
                f.name = stringOf(v);
            else if (key == "size")
                f.size = v.get_uint64();
            else if (key == "repo-size")
                f.repoSize = v.get_uint64();
            else if (key == "mtime")
                f.mtime = v.get_int64();
            else if (key == "mode")
                f.mode = parseMode(stringOf(v));
            else if (key == "user")
                f.user = stringOf(v);
            else if (key == "group")
                f.group = stringOf(v);
            else if (key == "reference")
                f.reference = stringOf(v);
            else if (key == "referenced-block-bytes")
                f.referencedBlockBytes = v.get_uint64();
            else if (key == "page-checked")
                f.pageChecked = v.get_bool();
            else if (key == "block-size") {
                uint64_t size = v.get_uint64();
                if (size > UINT32_MAX)
                    raise(ErrorCode::Format, "block size {} is out of range", size);
                f.blockSize = static_cast<uint32_t>(size);
            } else if (key == "bundle-id") {
                f.bundleId = v.get_uint64();
            } else if (key == "bundle-offset") {
                f.bundleOffset = v.get_uint64();
            } else if (key == "frame-bytes") {
                f.frameBytes = v.get_uint64();
            } else if (key == "frames") {
                for (auto frame : v.get_array()) f.frames.push_back(frame.get_uint64());
            } else if (key == "page-errors") {
                for (auto page : v.get_array()) {
                    uint64_t n = page.get_uint64();
                    if (n > UINT32_MAX) raise(ErrorCode::Format, "page {} is out of range", n);
                    f.pageErrors.push_back(static_cast<uint32_t>(n));
                }
            } else if (key == "sha256" || key == "xxh3") {
                f.checksum = stringOf(v);
                auto expected = key == "xxh3" ? io::ChecksumType::Xxh3 : io::ChecksumType::Sha256;
                if (io::checksumTypeOf(f.checksum) != expected)
                    raise(ErrorCode::Format, "'{}' is not a {} checksum: '{}'", key,
                          io::checksumAlgorithm(expected), f.checksum);
            }
        }
    } catch (const simdjson::simdjson_error& e) {
        raise(ErrorCode::Format, "file entry '{}', key '{}': {}", f.name, key, e.what());
    } catch (const Error& e) {
        raise(ErrorCode::Format, "file entry '{}', key '{}': {}", f.name, key, e.what());
    }
    if (f.name.empty()) raise(ErrorCode::Format, "a file entry has no name");
    if (f.checksum.empty()) raise(ErrorCode::Format, "file '{}' has no checksum", f.name);
    checkFrames(f);
    checkBundle(f);
    return f;
}

Manifest parseManifest(const std::string& text, const std::string& context) {
    Manifest m;
    json doc;
    try {
        FileListSpan list = findFileList(text);
        m.files.reserve(list.entries.size());
        od::parser parser;
        std::string entry;  // one element, with the padding simdjson reads past its end
        for (auto [begin, end] : list.entries) {
            entry.assign(text, begin, end - begin);
            entry.reserve(entry.size() + simdjson::SIMDJSON_PADDING);
            od::document one = parser.iterate(
                simdjson::padded_string_view(entry.data(), entry.size(), entry.capacity()));
            m.files.push_back(parseFile(one.get_object()));
        }
        // Everything else, with an empty file list in place of the real one.
        doc = json::parse(text.substr(0, list.open) + "[]" + text.substr(list.close + 1));
    } catch (const simdjson::simdjson_error& e) {
        raise(ErrorCode::Format, "manifest '{}' is malformed: {}", context, e.what());
    } catch (const json::exception& e) {
        raise(ErrorCode::Format, "manifest '{}' is malformed: {}", context, e.what());
    } catch (const Error& e) {
        if (e.code() != ErrorCode::Format) throw;
        raise(ErrorCode::Format, "manifest '{}' is malformed: {}", context, e.what());
    }
    try {
        m.format = doc.at("format").get<int>();
        if (m.format != 1)
            raise(ErrorCode::Format, "manifest '{}' has format {}, this backrest reads format 1",
                  context, m.format);
        const auto& b = doc.at("backup");
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
        if (b.contains("annotation"))
            m.annotations = b.at("annotation").get<std::map<std::string, std::string>>();
        const auto& d = doc.at("db");
        m.pgVersion = d.at("version");
        m.systemId = std::stoull(d.at("system-id").get<std::string>());
        m.dbId = d.at("db-id");
        m.walSegmentSize = d.at("wal-segment-size");
        m.dataChecksums = d.at("data-checksums");
        if (d.contains("databases")) {  // absent from a manifest written before names were kept
            m.databases.emplace();
            for (const auto& db : d.at("databases"))
                m.databases->push_back({db.at("name"), db.at("oid")});
        }
        const auto& o = doc.at("options");
        m.compressType = o.at("compress-type");
        m.compressLevel = o.at("compress-level");
        for (const auto& t : doc.at("targets"))
            m.targets.push_back(
                {t.at("name"), t.at("path"), t.at("tablespace-oid"), t.at("tablespace-name")});
        for (const auto& p : doc.at("paths"))
            m.paths.push_back({p.at("name"), parseMode(p.at("mode")), p.at("user"), p.at("group")});
        for (const auto& l : doc.at("links"))
            m.links.push_back({l.at("name"), l.at("destination")});
    } catch (const nlohmann::json::exception& e) {
        raise(ErrorCode::Format, "manifest '{}' is malformed: {}", context, e.what());
    } catch (const std::logic_error& e) {  // stoull
        raise(ErrorCode::Format, "manifest '{}' is malformed: {}", context, e.what());
    }
    return m;
}

}  // namespace

Manifest loadManifest(storage::Storage& repo, const std::string& path,
                      const std::shared_ptr<const crypto::RepoKey>& key) {
    auto m = loadChecksummedAs(repo, path, parseManifest, key);
    if (!m)
        raise(ErrorCode::BackupSet,
              "backup manifest '{}' is missing: the backup is incomplete or does not exist",
              repo.fullPath(path));
    return std::move(*m);
}

}  // namespace backrest::repo
