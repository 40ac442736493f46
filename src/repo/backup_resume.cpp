// Journal, discovery and verified reuse of an interrupted backup's files.
#include "repo/backup_resume.h"

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/log.h"
#include "io/buffer.h"
#include "io/file_checksum.h"
#include "io/filter_chain.h"
#include "io/size.h"
#include "repo/codec.h"

namespace backrest::repo {

namespace {

using nlohmann::json;

std::string journalPath(const Layout& layout, const std::string& label) { return layout.backupDir(label) + "/backup.resume"; }

std::optional<ResumableBackup> readJournal(storage::Storage& repo, const Layout& layout, const std::string& label) {
    auto text = storage::readAllIfExists(repo, journalPath(layout, label));
    if (!text) return std::nullopt;
    ResumableBackup r;
    size_t start = 0;
    bool first = true;
    while (start < text->size()) {
        size_t end = text->find('\n', start);
        if (end == std::string::npos) break;  // a torn last line: that file is simply copied again
        json line = json::parse(text->substr(start, end - start), nullptr, false);
        start = end + 1;
        if (line.is_discarded() || !line.is_object()) continue;
        if (first) {
            first = false;
            r.header = {line.value("label", ""), line.value("type", ""), line.value("prior", ""),
                        line.value("compress-type", ""), line.value("timestamp-start", int64_t{0})};
            if (r.header.label != label) return std::nullopt;
            continue;
        }
        ResumeEntry entry;
        entry.size = line.value("size", uint64_t{0});
        entry.repoSize = line.value("repo-size", uint64_t{0});
        entry.mtime = line.value("mtime", int64_t{0});
        // "sha256": journals written before checksum-type existed
        entry.checksum = line.value("checksum", line.value("sha256", ""));
        entry.frameBytes = line.value("frame-bytes", uint64_t{0});
        if (auto frames = line.find("frames"); frames != line.end() && frames->is_array())
            for (const auto& n : *frames)
                if (n.is_number_unsigned()) entry.frames.push_back(n.get<uint64_t>());
        r.files[line.value("name", "")] = std::move(entry);
    }
    if (first) return std::nullopt;
    return r;
}

}  // namespace

ResumeJournal::ResumeJournal(storage::Storage& repo, const Layout& layout, const ResumeHeader& h)
    : repo_(repo), path_(journalPath(layout, h.label)) {
    storage::WriteOptions w;
    w.atomic = false;  // appended to as files complete; lines are self-contained
    w.syncFile = false;
    out_ = repo.openWrite(path_, w);
    std::string line = json{{"label", h.label},
                            {"type", h.type},
                            {"prior", h.prior},
                            {"compress-type", h.compressType},
                            {"timestamp-start", h.timestampStart}}
                           .dump() +
                       "\n";
    out_->write({reinterpret_cast<const uint8_t*>(line.data()), line.size()});
}

ResumeJournal::~ResumeJournal() {
    if (!out_) return;
    try {
        out_->close();
    } catch (const std::exception& e) {
        logWarn("backup: unable to close the resume journal '{}': {}", repo_.fullPath(path_), e.what());
    }
}

void ResumeJournal::add(const ManifestFile& f) {
    json entry{{"name", f.name}, {"size", f.size}, {"repo-size", f.repoSize}, {"mtime", f.mtime}, {"checksum", f.checksum}};
    if (!f.frames.empty()) {
        entry["frame-bytes"] = f.frameBytes;
        entry["frames"] = f.frames;
    }
    std::string line = entry.dump() + "\n";
    std::lock_guard lock(mutex_);
    if (out_) out_->write({reinterpret_cast<const uint8_t*>(line.data()), line.size()});
}

void ResumeJournal::remove() {
    std::lock_guard lock(mutex_);
    if (out_) out_->close();
    out_.reset();
    repo_.remove(path_);
}

std::optional<ResumableBackup> takeResumable(storage::Storage& repo, const Layout& layout, const std::string& type,
                                             const std::string& prior, const std::string& compressType) {
    std::vector<std::string> incomplete;
    for (const auto& entry : repo.list(layout.backupRoot())) {
        if (entry.type != storage::FileType::Path || !isBackupLabel(entry.name)) continue;
        if (repo.info(layout.manifest(entry.name)) || repo.info(layout.manifest(entry.name) + ".copy")) continue;
        incomplete.push_back(entry.name);
    }
    std::sort(incomplete.begin(), incomplete.end());
    std::optional<ResumableBackup> chosen;
    for (auto it = incomplete.rbegin(); it != incomplete.rend(); ++it) {
        std::optional<ResumableBackup> r;
        if (!chosen) {
            try {
                r = readJournal(repo, layout, *it);
            } catch (const std::exception& e) {
                logWarn("backup: the resume journal of {} is unreadable: {}", *it, e.what());
            }
        }
        if (r && r->header.type == type && r->header.prior == prior && r->header.compressType == compressType) {
            logInfo("backup: resuming interrupted backup {} ({} files already stored)", *it, r->files.size());
            chosen = std::move(r);
            continue;
        }
        logWarn("backup: removing incomplete backup {} (no manifest: it was interrupted)", *it);
        repo.removePath(layout.backupDir(*it), true);
    }
    return chosen;
}

bool resumeFile(storage::Storage& repo, const Layout& layout, const ResumableBackup& from, const std::string& label,
                ManifestFile& file, size_t bufferSize) {
    auto it = from.files.find(file.name);
    if (it == from.files.end()) return false;
    const ResumeEntry& e = it->second;
    if (e.size != file.size || e.mtime != file.mtime || e.mtime >= from.header.timestampStart) return false;

    std::string ext(io::compressExtension(io::parseCompressType(from.header.compressType)));
    std::string stored = layout.backupFile(from.header.label, file.name, ext);
    auto type = io::checksumTypeOf(e.checksum);
    if (!type) return false;  // a damaged journal line: copy the file again
    if (!e.frames.empty()) {  // a frame index that does not add up: copy the file again
        uint64_t sum = 0;
        for (uint64_t n : e.frames) sum += n;
        uint64_t count = e.frameBytes == 0 ? 0 : e.size == 0 ? 1 : (e.size + e.frameBytes - 1) / e.frameBytes;
        if (sum != e.repoSize || e.frames.size() != count) return false;
    }
    auto in = repo.openRead(stored, true);
    if (!in) return false;
    io::FilterChain chain([](std::span<const uint8_t>) {});
    RepoCodec(io::parseCompressType(from.header.compressType))
        .pushDecode(chain, repo.fullPath(stored));
    auto& sum = chain.add<io::ChecksumFilter>(*type);
    auto& size = chain.add<io::SizeFilter>();
    io::Buffer buffer(bufferSize);
    try {
        for (size_t n; (n = in->read({buffer.data(), buffer.capacity()})) > 0;) chain.write({buffer.data(), n});
        chain.finish();
    } catch (const Error& e) {
        logWarn("backup: not resuming '{}': {}", file.name, e.what());
        return false;
    }
    if (sum.hex() != e.checksum || size.bytes() != e.size) {
        logWarn("backup: not resuming '{}': the stored copy does not match its journal", file.name);
        return false;
    }
    repo.move(stored, layout.backupFile(label, file.name, ext));
    file.checksum = e.checksum;
    file.repoSize = e.repoSize;
    file.frameBytes = e.frames.empty() ? 0 : e.frameBytes;
    file.frames = e.frames;
    return true;
}

}  // namespace backrest::repo
