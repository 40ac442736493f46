// Routes each read of a backup from a standby to the server that holds the right bytes.
#include "command/backup/standby_data.h"

#include "common/error.h"

namespace backrest::backup {

bool readFromStandby(const std::string& relativePath) {
    std::string p = relativePath;
    while (p.starts_with("./")) p.erase(0, 2);
    if (p.empty() || p[0] == '/') return false;
    std::string first = p.substr(0, p.find('/'));
    if (first == "base") return true;
    if (first == "global") return p != "global" && p != "global/pg_control";
    // pg_tblspc/<oid> is the primary's link; what is below it, the standby's copy of the contents.
    if (first == "pg_tblspc") {
        size_t second = p.find('/', first.size() + 1);
        return second != std::string::npos && second + 1 < p.size();
    }
    return false;
}

StandbyDataStorage::StandbyDataStorage(std::shared_ptr<storage::Storage> primary,
                                       std::shared_ptr<storage::Storage> standby)
    : primary_(std::move(primary)), standby_(std::move(standby)) {}

storage::Storage& StandbyDataStorage::side(const std::string& path) const {
    return readFromStandby(path) ? *standby_ : *primary_;
}

storage::Features StandbyDataStorage::features() const {
    storage::Features f = primary_->features();
    f.move = f.writeAt = f.direct = f.flushAfter = f.preallocate = false;
    return f;
}

std::unique_ptr<storage::StorageRead> StandbyDataStorage::openRead(
    const std::string& path, bool ignoreMissing, const storage::ReadRange& range) {
    return side(path).openRead(path, ignoreMissing, range);
}

std::unique_ptr<storage::StorageWrite> StandbyDataStorage::openWrite(const std::string& path,
                                                                     const storage::WriteOptions&) {
    raise(ErrorCode::Assert, "backup from a standby: the data directory is read only ('{}')",
          fullPath(path));
}

std::optional<storage::FileInfo> StandbyDataStorage::info(const std::string& path,
                                                          bool followLink) {
    return side(path).info(path, followLink);
}

// global/ is listed on the standby, with the primary's pg_control in place of the standby's.
std::vector<storage::FileInfo> StandbyDataStorage::list(const std::string& path,
                                                        bool ignoreMissing) {
    std::string p = path;
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    if (p != "global") return side(p).list(p, ignoreMissing);
    auto entries = standby_->list(p, ignoreMissing);
    std::erase_if(entries, [](const storage::FileInfo& e) { return e.name == "pg_control"; });
    if (auto control = primary_->info("global/pg_control")) {
        control->name = "pg_control";
        entries.push_back(*control);
    }
    return entries;
}

void StandbyDataStorage::remove(const std::string& path, bool) {
    raise(ErrorCode::Assert, "backup from a standby: the data directory is read only ('{}')",
          fullPath(path));
}

void StandbyDataStorage::removePath(const std::string& path, bool) {
    raise(ErrorCode::Assert, "backup from a standby: the data directory is read only ('{}')",
          fullPath(path));
}

std::string StandbyDataStorage::fullPath(const std::string& path) const {
    return side(path).fullPath(path);
}

}  // namespace backrest::backup
