// Loading a manifest in bounded memory: the text is verified against its checksum, then parsed
// with a SAX handler that fills the file list directly, so a million files never exist as a
// JSON document; only the small parts (backup, db, targets, paths, …) are built as one.
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "io/file_checksum.h"
#include "repo/checksummed_json.h"
#include "repo/manifest.h"

namespace backrest::repo {

namespace {

using nlohmann::json;

class ManifestSax {
public:
    explicit ManifestSax(Manifest& m) : m_(m) {}

    json& root() { return root_; }
    const std::string& error() const { return error_; }

    bool null() { return value(json(nullptr)); }
    bool boolean(bool v) { return value(json(v)); }
    bool number_integer(json::number_integer_t v) { return value(json(v)); }
    bool number_unsigned(json::number_unsigned_t v) { return value(json(v)); }
    bool number_float(json::number_float_t v, const std::string&) { return value(json(v)); }
    bool string(std::string& v) { return value(json(std::move(v))); }
    bool binary(json::binary_t&) { return fail("binary values are not allowed"); }

    bool start_object(std::size_t) {
        depth_++;
        if (inFiles_ && depth_ == 3) {
            file_ = ManifestFile{};
            return true;
        }
        if (inFiles_) return fail("unexpected nested object in a file entry");
        return open(json::object());
    }
    bool end_object() {
        depth_--;
        if (inFiles_ && depth_ == 2) {
            if (file_.name.empty()) return fail("a file entry has no name");
            m_.files.push_back(std::move(file_));
            return true;
        }
        stack_.pop_back();
        return true;
    }
    bool start_array(std::size_t) {
        depth_++;
        if (depth_ == 2 && key_ == "files" && stack_.size() == 1) {
            inFiles_ = true;
            return true;
        }
        if (inFiles_ && depth_ == 4 && key_ == "page-errors") return true;
        if (inFiles_) return fail("unexpected array in the file list");
        return open(json::array());
    }
    bool end_array() {
        depth_--;
        if (inFiles_ && depth_ == 1) {
            inFiles_ = false;
            return true;
        }
        if (inFiles_) return true;  // page-errors
        stack_.pop_back();
        return true;
    }
    bool key(std::string& k) {
        key_ = k;
        return true;
    }
    bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) {
        return fail(fmt::format("at byte {}: {}", position, e.what()));
    }

private:
    // The key names the algorithm; the value must be that algorithm's length of hex.
    bool setChecksum(std::string hex) {
        auto type = io::checksumTypeOf(hex);
        auto expected = key_ == "xxh3" ? io::ChecksumType::Xxh3 : io::ChecksumType::Sha256;
        if (type != expected)
            return fail(fmt::format("file entry '{}': '{}' is not a {} checksum: '{}'", file_.name, key_,
                                    io::checksumAlgorithm(expected), hex));
        file_.checksum = std::move(hex);
        return true;
    }

    bool fail(const std::string& message) {
        if (error_.empty()) error_ = message;
        return false;
    }

    bool open(json container) {
        if (stack_.empty()) {
            root_ = std::move(container);
            stack_.push_back(&root_);
            return true;
        }
        json& parent = *stack_.back();
        json* child = parent.is_array() ? &parent.emplace_back(std::move(container))
                                        : &(parent[key_] = std::move(container));
        stack_.push_back(child);
        return true;
    }

    bool value(json v) {
        if (inFiles_) return fileValue(v);
        if (stack_.empty()) return fail("the manifest is not a JSON object");
        json& parent = *stack_.back();
        if (parent.is_array())
            parent.push_back(std::move(v));
        else
            parent[key_] = std::move(v);
        return true;
    }

    bool fileValue(const json& v) {
        try {
            if (depth_ == 4) {  // inside page-errors
                file_.pageErrors.push_back(v.get<uint32_t>());
                return true;
            }
            if (key_ == "name") file_.name = v.get<std::string>();
            else if (key_ == "size") file_.size = v.get<uint64_t>();
            else if (key_ == "repo-size") file_.repoSize = v.get<uint64_t>();
            else if (key_ == "mtime") file_.mtime = v.get<int64_t>();
            else if (key_ == "mode") file_.mode = parseMode(v.get<std::string>());
            else if (key_ == "user") file_.user = v.get<std::string>();
            else if (key_ == "group") file_.group = v.get<std::string>();
            else if (key_ == "sha256" || key_ == "xxh3") return setChecksum(v.get<std::string>());
            else if (key_ == "reference") file_.reference = v.get<std::string>();
            else if (key_ == "block-size") file_.blockSize = v.get<uint32_t>();
            else if (key_ == "page-checked") file_.pageChecked = v.get<bool>();
            // Unknown keys are skipped: a later minor format may add fields.
            return true;
        } catch (const json::exception& e) {
            return fail(fmt::format("file entry '{}', key '{}': {}", file_.name, key_, e.what()));
        }
    }

    Manifest& m_;
    json root_;
    std::vector<json*> stack_;
    std::string key_;
    std::string error_;
    int depth_ = 0;
    bool inFiles_ = false;
    ManifestFile file_;
};

Manifest parseManifest(const std::string& text, const std::string& context) {
    Manifest m;
    ManifestSax sax(m);
    if (!json::sax_parse(text, &sax) || !sax.error().empty())
        raise(ErrorCode::Format, "manifest '{}' is malformed: {}", context, sax.error());
    const json& doc = sax.root();
    try {
        m.format = doc.at("format").get<int>();
        if (m.format != 1)
            raise(ErrorCode::Format, "manifest '{}' has format {}, this backrest reads format 1", context, m.format);
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
        const auto& d = doc.at("db");
        m.pgVersion = d.at("version");
        m.systemId = std::stoull(d.at("system-id").get<std::string>());
        m.dbId = d.at("db-id");
        m.walSegmentSize = d.at("wal-segment-size");
        m.dataChecksums = d.at("data-checksums");
        const auto& o = doc.at("options");
        m.compressType = o.at("compress-type");
        m.compressLevel = o.at("compress-level");
        for (const auto& t : doc.at("targets"))
            m.targets.push_back({t.at("name"), t.at("path"), t.at("tablespace-oid"), t.at("tablespace-name")});
        for (const auto& p : doc.at("paths"))
            m.paths.push_back({p.at("name"), parseMode(p.at("mode")), p.at("user"), p.at("group")});
        for (const auto& l : doc.at("links")) m.links.push_back({l.at("name"), l.at("destination")});
    } catch (const nlohmann::json::exception& e) {
        raise(ErrorCode::Format, "manifest '{}' is malformed: {}", context, e.what());
    } catch (const std::logic_error& e) {  // stoull
        raise(ErrorCode::Format, "manifest '{}' is malformed: {}", context, e.what());
    }
    for (const auto& f : m.files)
        if (!io::checksumTypeOf(f.checksum))
            raise(ErrorCode::Format, "manifest '{}': file '{}' has no checksum", context, f.name);
    return m;
}

}  // namespace

Manifest loadManifest(storage::Storage& repo, const std::string& path) {
    auto m = loadChecksummedAs(repo, path, parseManifest);
    if (!m)
        raise(ErrorCode::BackupSet, "backup manifest '{}' is missing: the backup is incomplete or does not exist",
              repo.fullPath(path));
    return std::move(*m);
}

}  // namespace backrest::repo
