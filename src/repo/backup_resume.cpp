// Journal, discovery and verified reuse of an interrupted backup's files.
#include "repo/backup_resume.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/log.h"
#include "io/buffer.h"
#include "io/file_checksum.h"
#include "io/filter_chain.h"
#include "io/size.h"
#include "repo/codec.h"
#include "repo/label_claim.h"
#include "repo/piece.h"
#include "repo/repo_cipher.h"
#include "repo/stored_file_reader.h"

namespace backrest::repo {

namespace {

using nlohmann::json;

constexpr std::string_view kJournalName = "backup.resume";

std::string journalPath(const Layout& layout, const std::string& label) {
    return layout.backupDir(label) + "/" + std::string(kJournalName);
}

// A batch of the journal is written once this many files are in it, or once this long has passed
// since the last one (checked as each file completes): a kill -9 loses at most the files of one
// batch, which the next backup copies again. An object store has no append, so each batch is an
// object of its own; the same on posix, where it costs one small file per batch.
constexpr size_t kBatchFiles = 256;
constexpr auto kBatchAge = std::chrono::seconds(5);

storage::WriteOptions journalWrite() {
    storage::WriteOptions w;
    // Not fsynced: a journal lost in a power failure makes the next backup copy those files
    // again; each journaled file is verified against its checksum before it is taken over.
    w.syncFile = false;
    w.syncPath = false;
    return w;
}

// The journal's pieces: backup.resume (the header, then the first files of 0.1.0's appended
// journal) and backup.resume.<n>, one per batch, in the order written.
std::vector<std::string> journalPieces(storage::Storage& repo, const Layout& layout,
                                       const std::string& label) {
    std::vector<std::pair<uint64_t, std::string>> batches;
    std::string prefix = std::string(kJournalName) + ".";
    for (const auto& entry : repo.list(layout.backupDir(label))) {
        if (entry.type != storage::FileType::File || !entry.name.starts_with(prefix)) continue;
        std::string_view n = std::string_view(entry.name).substr(prefix.size());
        if (n.empty() || n.find_first_not_of("0123456789") != std::string_view::npos) continue;
        batches.emplace_back(std::stoull(std::string(n)), entry.name);
    }
    std::sort(batches.begin(), batches.end());
    std::vector<std::string> pieces{journalPath(layout, label)};
    for (auto& [n, name] : batches) pieces.push_back(layout.backupDir(label) + "/" + name);
    return pieces;
}

// One piece of the journal as written: opened with the key of an encrypted repository (sealed for
// its own path); nullopt when missing, or when it does not open (that batch's files are simply
// copied again).
std::optional<std::string> readJournalPiece(storage::Storage& repo, const Layout& layout,
                                            const std::string& path) {
    auto stored = storage::readAllIfExists(repo, path);
    if (!stored) return std::nullopt;
    try {
        return openMetadata(layout.key, path, std::move(*stored), repo.fullPath(path));
    } catch (const Error& e) {
        logWarn("backup: ignoring resume journal '{}': {}", repo.fullPath(path), e.what());
        return std::nullopt;
    }
}

std::optional<ResumableBackup> readJournal(storage::Storage& repo, const Layout& layout,
                                           const std::string& label) {
    auto pieces = journalPieces(repo, layout, label);
    auto text = readJournalPiece(repo, layout, pieces.front());
    if (!text) return std::nullopt;
    // A batch is written whole (or not at all), so its lines simply follow the header's.
    for (size_t i = 1; i < pieces.size(); ++i)
        if (auto batch = readJournalPiece(repo, layout, pieces[i])) *text += *batch;
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
    : repo_(repo),
      path_(journalPath(layout, h.label)),
      key_(layout.key),
      lastBatch_(std::chrono::steady_clock::now()) {
    std::string line = json{{"label", h.label},
                            {"type", h.type},
                            {"prior", h.prior},
                            {"compress-type", h.compressType},
                            {"timestamp-start", h.timestampStart}}
                           .dump() +
                       "\n";
    storage::writeAll(repo_, path_, sealMetadata(key_, path_, std::move(line)), journalWrite());
}

ResumeJournal::~ResumeJournal() {
    std::lock_guard lock(mutex_);
    if (removed_) return;
    try {
        writeBatch();  // a failed or cancelled backup keeps what it stored for the next one
    } catch (const std::exception& e) {
        logWarn("backup: unable to write the resume journal '{}': {}", repo_.fullPath(path_),
                e.what());
    }
}

void ResumeJournal::writeBatch() {
    if (pending_.empty()) return;
    std::string batch = fmt::format("{}.{}", path_, batches_);
    storage::writeAll(repo_, batch, sealMetadata(key_, batch, pending_), journalWrite());
    ++batches_;
    pending_.clear();
    pendingFiles_ = 0;
    lastBatch_ = std::chrono::steady_clock::now();
}

void ResumeJournal::add(const ManifestFile& f) {
    json entry{{"name", f.name},
               {"size", f.size},
               {"repo-size", f.repoSize},
               {"mtime", f.mtime},
               {"checksum", f.checksum}};
    if (!f.frames.empty()) {
        entry["frame-bytes"] = f.frameBytes;
        entry["frames"] = f.frames;
    }
    std::string line = entry.dump() + "\n";
    std::lock_guard lock(mutex_);
    if (removed_) return;
    pending_ += line;
    ++pendingFiles_;
    if (pendingFiles_ >= kBatchFiles ||
        std::chrono::steady_clock::now() - lastBatch_ >= kBatchAge) {
        try {
            writeBatch();
        } catch (const std::exception& e) {
            // The journal only saves work after a crash: the backup itself goes on.
            logWarn("backup: unable to write the resume journal '{}': {}", repo_.fullPath(path_),
                    e.what());
            pending_.clear();
            pendingFiles_ = 0;
            lastBatch_ = std::chrono::steady_clock::now();
        }
    }
}

void ResumeJournal::remove() {
    std::lock_guard lock(mutex_);
    removed_ = true;
    pending_.clear();
    for (uint64_t i = 0; i < batches_; ++i) repo_.remove(fmt::format("{}.{}", path_, i));
    repo_.remove(path_);
}

std::optional<ResumableBackup> takeResumable(storage::Storage& repo, const Layout& layout,
                                             const std::string& type, const std::string& prior,
                                             const std::string& compressType) {
    std::vector<std::string> incomplete;
    for (const auto& entry : repo.list(layout.backupRoot())) {
        if (entry.type != storage::FileType::Path || !isBackupLabel(entry.name)) continue;
        if (repo.info(layout.manifest(entry.name)) ||
            repo.info(layout.manifest(entry.name) + ".copy"))
            continue;
        if (auto owner = runningClaim(repo, layout, entry.name)) {
            logWarn(
                "backup: leaving incomplete backup {} alone: it is claimed by a backup that "
                "may still be running ({}; lock-path does not reach it); if it is not, "
                "remove '{}'",
                entry.name, *owner, repo.fullPath(layout.backupDir(entry.name)));
            continue;
        }
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
        if (r && r->header.type == type && r->header.prior == prior &&
            r->header.compressType == compressType) {
            logInfo("backup: resuming interrupted backup {} ({} files already stored)", *it,
                    r->files.size());
            chosen = std::move(r);
            continue;
        }
        logWarn("backup: removing incomplete backup {} (no manifest: it was interrupted)", *it);
        repo.removePath(layout.backupDir(*it), true);
    }
    return chosen;
}

bool resumeFile(storage::Storage& repo, const Layout& layout, const ResumableBackup& from,
                const std::string& label, ManifestFile& file, size_t bufferSize) {
    auto it = from.files.find(file.name);
    if (it == from.files.end()) return false;
    const ResumeEntry& e = it->second;
    if (e.size != file.size || e.mtime != file.mtime || e.mtime >= from.header.timestampStart)
        return false;

    std::string ext(io::compressExtension(io::parseCompressType(from.header.compressType)));
    std::string stored = layout.backupFile(from.header.label, file.name, ext);
    auto type = io::checksumTypeOf(e.checksum);
    if (!type) return false;  // a damaged journal line: copy the file again
    if (!e.frames.empty()) {  // a frame index that does not add up: copy the file again
        uint64_t sum = 0;
        for (uint64_t n : e.frames) sum += n;
        uint64_t count = e.frameBytes == 0 ? 0
                         : e.size == 0     ? 1
                                           : (e.size + e.frameBytes - 1) / e.frameBytes;
        if (sum != e.repoSize || e.frames.size() != count) return false;
    }
    const RepoCodec codec =
        RepoCodec(io::parseCompressType(from.header.compressType)).withKey(layout.key);
    const std::string fromPiece = backupFilePiece(layout, from.header.label, file.name);
    StoredFileReader reader(repo, stored, codec, fromPiece);
    if (!reader.open()) return false;
    // No rename (an object store has none): the stored bytes are written under the new label as
    // they are verified; the copy appears only at close, once they proved good, and the
    // interrupted backup goes whole afterwards (BackupJob). On posix this costs the write a
    // rename saved; resuming is rare and the read was needed anyway.
    auto out = repo.openWrite(layout.backupFile(label, file.name, ext));
    // Sealed bytes are bound to the label they were stored under: resealed for the new one as
    // they are copied (nothing is decompressed for that; the reader decompresses its own).
    io::FilterChain copy([&](std::span<const uint8_t> bytes) { out->write(bytes); });
    codec.pushReseal(copy, fromPiece, backupFilePiece(layout, label, file.name),
                     repo.fullPath(stored));
    try {
        StoredRead read = reader.read(
            *type, {e.checksum, e.size},
            {.stored = [&](std::span<const uint8_t> bytes) { copy.write(bytes); }}, bufferSize);
        if (read.error) {
            logWarn("backup: not resuming '{}': {}", file.name, read.error->what());
            return false;
        }
        copy.finish();
        if (read.fault == StoredFault::Mismatch) {
            logWarn("backup: not resuming '{}': the stored copy does not match its journal",
                    file.name);
            return false;
        }
    } catch (const Error& error) {  // the copy's
        logWarn("backup: not resuming '{}': {}", file.name, error.what());
        return false;
    }
    out->close();
    file.checksum = e.checksum;
    file.repoSize = e.repoSize;
    file.frameBytes = e.frames.empty() ? 0 : e.frameBytes;
    file.frames = e.frames;
    return true;
}

}  // namespace backrest::repo
