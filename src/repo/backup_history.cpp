// The backup history: manifest copies kept beyond their backups, and their expiry.
#include "repo/backup_history.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <ctime>

#include "common/error.h"
#include "io/buffer.h"
#include "io/compress.h"
#include "repo/checksummed_json.h"
#include "repo/repo_cipher.h"

namespace backrest::repo {

namespace {

constexpr const char* kSuffix = ".manifest.zst";
// The copy is read rarely and kept for years: a higher level than data files' default costs
// milliseconds on a manifest.
constexpr int kHistoryCompressLevel = 9;

std::string runFilter(io::Filter& filter, std::string_view in) {
    io::Buffer out;
    filter.process({reinterpret_cast<const uint8_t*>(in.data()), in.size()}, out);
    filter.finish(out);
    return {reinterpret_cast<const char*>(out.data()), out.size()};
}

// The piece a history file is sealed as: its path without the compression extension.
std::string historyPiece(const std::string& path) {
    return path.substr(0, path.size() - 4);
}

// "20261205": the label's first eight characters are its full backup's UTC date.
std::string utcDate(int64_t when) {
    std::time_t t = static_cast<std::time_t>(when);
    std::tm tm{};
    gmtime_r(&t, &tm);
    return fmt::format("{:04d}{:02d}{:02d}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

bool isYear(const std::string& name) {
    return name.size() == 4 &&
           std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::string historyRoot(const Layout& layout) {
    return layout.backupRoot() + "/backup.history";
}

std::string historyManifestPath(const Layout& layout, const std::string& label) {
    return historyRoot(layout) + "/" + label.substr(0, 4) + "/" + label + kSuffix;
}

void saveHistoryManifest(storage::Storage& repo, const Layout& layout, const std::string& label) {
    auto text = loadChecksummedAs(
        repo, layout.manifest(label),
        [](std::string t, const std::string& context) {
            verifyChecksummed(t, context);
            return t;
        },
        layout.key);
    if (!text)
        raise(ErrorCode::BackupSet, "backup {}: no manifest to copy into the history", label);
    auto compress = io::makeCompressFilter(io::CompressType::Zst, kHistoryCompressLevel);
    std::string path = historyManifestPath(layout, label);
    storage::writeAll(repo, path,
                      sealMetadata(layout.key, historyPiece(path), runFilter(*compress, *text)));
}

std::string loadHistoryManifest(storage::Storage& repo, const Layout& layout,
                                const std::string& label) {
    std::string path = historyManifestPath(layout, label);
    std::string context = repo.fullPath(path);
    std::string compressed =
        openMetadata(layout.key, historyPiece(path), storage::readAll(repo, path), context);
    auto decompress = io::makeDecompressFilter(io::CompressType::Zst, context);
    std::string text = runFilter(*decompress, compressed);
    verifyChecksummed(text, context);
    return text;
}

std::vector<std::string> expireHistory(storage::Storage& repo, const Layout& layout,
                                       const BackupInfo& info, int days, int64_t now, bool dryRun) {
    std::string oldestKept = utcDate(now - static_cast<int64_t>(days) * 86400);
    std::vector<std::string> removed;
    for (const auto& year : repo.list(historyRoot(layout))) {
        if (year.type != storage::FileType::Path || !isYear(year.name)) continue;
        std::string dir = historyRoot(layout) + "/" + year.name;
        for (const auto& file : repo.list(dir)) {
            const std::string& name = file.name;
            if (file.type != storage::FileType::File || name.size() <= strlen(kSuffix) ||
                !name.ends_with(kSuffix))
                continue;
            std::string label = name.substr(0, name.size() - strlen(kSuffix));
            if (!isBackupLabel(label) || info.find(label)) continue;
            // 0 days: history only while listed, as pgBackRest documents it (its code compares
            // dates and keeps a backup expired today until tomorrow).
            if (days > 0 && label.substr(0, 8) >= oldestKept) continue;
            if (!dryRun) repo.remove(dir + "/" + name);
            removed.push_back(label);
        }
        // The year directory stays, even empty, as pgBackRest leaves it: one call less to the
        // storage, and the next backup of that year writes there again.
    }
    std::sort(removed.begin(), removed.end());
    return removed;
}

}  // namespace backrest::repo
