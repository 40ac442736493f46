// WAL push/get against the repository layout.
#include "repo/wal_archive.h"

#include <filesystem>

#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include "common/error.h"
#include "common/log.h"
#include "io/buffer.h"
#include "io/filter_chain.h"
#include "io/sha256.h"
#include "io/size.h"
#include "pg/wal.h"

namespace backrest::repo {

namespace {

bool isHistory(const std::string& walName) { return pg::isHistoryFileName(walName); }

// Directory of a WAL file: history files sit in the archive id's root, everything else in the
// directory named by the first 16 hex digits of the segment.
std::string walDirectory(const Layout& layout, const std::string& archiveId, const std::string& walName) {
    return isHistory(walName) ? layout.archiveIdDir(archiveId) : layout.walDir(archiveId, walName);
}

io::CompressType compressTypeOfName(const std::string& fileName) {
    return fileName.ends_with(".zst") ? io::CompressType::Zst : io::CompressType::None;
}

std::string fileSha256(storage::Storage& source, const std::string& path, size_t bufferSize,
                       std::string* header) {
    auto in = source.openRead(path);
    io::Sha256Filter sha;
    io::Buffer buffer(bufferSize);
    io::Buffer unused;
    bool first = true;
    for (;;) {
        size_t n = in->read({buffer.data(), buffer.capacity()});
        if (n == 0) break;
        if (first && header) header->assign(reinterpret_cast<const char*>(buffer.data()), std::min<size_t>(n, 64));
        first = false;
        sha.process({buffer.data(), n}, unused);
    }
    sha.finish(unused);
    return sha.hex();
}

}  // namespace

std::optional<ArchivedWal> findWal(storage::Storage& repo, const Layout& layout,
                                   const std::string& archiveId, const std::string& walName) {
    std::string dir = walDirectory(layout, archiveId, walName);
    std::string prefix = walName + "-";
    std::optional<ArchivedWal> found;
    for (const auto& entry : repo.list(dir)) {
        if (!entry.name.starts_with(prefix) || entry.name.ends_with(".tmp") ||
            entry.type != storage::FileType::File)
            continue;
        std::string rest = entry.name.substr(prefix.size());
        std::string sha = rest.substr(0, rest.find('.'));
        if (sha.size() != 64) continue;  // a temporary file, never a stored one
        if (found)
            raise(ErrorCode::Format,
                  "WAL file {} is stored twice in archive {} ('{}' and '{}'); remove the wrong one",
                  walName, archiveId, found->path, dir + "/" + entry.name);
        found = ArchivedWal{archiveId, dir + "/" + entry.name, sha, compressTypeOfName(entry.name)};
    }
    return found;
}

PushResult pushWal(storage::Storage& repo, const Layout& layout, const ArchiveInfo& info,
                   storage::Storage& source, const std::string& sourcePath,
                   const std::string& clusterVersion, uint64_t clusterSystemId,
                   const PushOptions& options) {
    std::string walName = std::filesystem::path(sourcePath).filename();
    bool segment = pg::isWalSegmentName(walName) || pg::isPartialName(walName);
    if (!segment && !isHistory(walName) && !pg::isBackupHistoryName(walName))
        raise(ErrorCode::Command, "archive-push: '{}' is not a WAL segment, history or backup history file",
              source.fullPath(sourcePath));

    checkIdentity(info.current(), clusterVersion, clusterSystemId, layout.stanza,
                  fmt::format("archive-push of {}", walName));

    // First pass: checksum (it names the stored file) and, for segments, the header's identity.
    std::string header;
    std::string sha = fileSha256(source, sourcePath, options.bufferSize, &header);
    if (segment) {
        auto h = pg::parseWalHeader({reinterpret_cast<const uint8_t*>(header.data()), header.size()},
                                    source.fullPath(sourcePath));
        checkIdentity(info.current(), pg::walMagicVersion(h.magic), h.systemId, layout.stanza,
                      fmt::format("archive-push of WAL segment {}", walName));
    }

    std::string archiveId = info.currentArchiveId();
    if (auto existing = findWal(repo, layout, archiveId, walName)) {
        if (existing->sha256 == sha) {
            logInfo("archive-push: {} already in the repository with the same checksum; nothing to do", walName);
            return PushResult::AlreadyPresent;
        }
        raise(ErrorCode::ArchiveDuplicate,
              "archive-push: WAL file {} already in the repository with a different checksum "
              "(repository '{}' has SHA-256 {}, '{}' has {}); refusing to overwrite",
              walName, repo.fullPath(existing->path), existing->sha256, source.fullPath(sourcePath), sha);
    }

    // History files stay uncompressed: they are tiny and read by people.
    io::CompressType type = isHistory(walName) ? io::CompressType::None : options.compressType;
    std::string target = walDirectory(layout, archiveId, walName) + "/" + walName + "-" + sha +
                         std::string(io::compressExtension(type));

    // Second pass: the bytes may not change between the passes (PostgreSQL never rewrites a
    // completed segment), and the checksum is verified again to be sure.
    auto in = source.openRead(sourcePath);
    auto out = repo.openWrite(target);  // atomic, fsync file, rename, fsync directory
    io::FilterChain chain([&](std::span<const uint8_t> bytes) { out->write(bytes); });
    auto& again = chain.add<io::Sha256Filter>();
    chain.push(io::makeCompressFilter(type, options.compressLevel));
    io::Buffer buffer(options.bufferSize);
    for (;;) {
        size_t n = in->read({buffer.data(), buffer.capacity()});
        if (n == 0) break;
        chain.write({buffer.data(), n});
    }
    chain.finish();
    if (again.hex() != sha)
        raise(ErrorCode::Checksum, "archive-push: '{}' changed while it was being archived",
              source.fullPath(sourcePath));
    out->close();
    return PushResult::Stored;
}

StreamedWal::StreamedWal(storage::Storage& repo, const Layout& layout, const ArchiveInfo& info, std::string walName,
                         const std::string& clusterVersion, uint64_t clusterSystemId, const PushOptions& options)
    : repo_(repo),
      layout_(layout),
      archiveId_(info.currentArchiveId()),
      walName_(std::move(walName)),
      directory_(walDirectory(layout, archiveId_, walName_)),
      extension_(io::compressExtension(options.compressType)),
      identity_(info.current()),
      compressType_(options.compressType),
      compressLevel_(options.compressLevel) {
    if (!pg::isWalSegmentName(walName_))
        raise(ErrorCode::Assert, "a streamed WAL file must be a segment, not '{}'", walName_);
    checkIdentity(identity_, clusterVersion, clusterSystemId, layout.stanza,
                  fmt::format("archive of streamed WAL segment {}", walName_));
    storage::WriteOptions write;
    write.atomic = false;    // named by its checksum once complete (finish)
    write.syncPath = false;  // the rename in finish() syncs the directory
    // A segment arrives over seconds: written back as it goes, so the fsync in finish() has
    // little left to wait for when the archiver is about to ask for the segment.
    write.flushAfter = 64 * 1024;
    // Ends in .tmp: never taken for a stored segment, whatever happens to this process.
    temporary_ = fmt::format("{}/{}.stream.{}.tmp", directory_, walName_, ::getpid());
    out_ = repo.openWrite(temporary_, write);
    startFrame();
    checkRepository();
}

StreamedWal::~StreamedWal() = default;

void StreamedWal::startFrame() {
    frame_ = std::make_unique<io::FilterChain>([this](std::span<const uint8_t> bytes) { out_->write(bytes); });
    frame_->push(io::makeCompressFilter(compressType_, compressLevel_));
}

void StreamedWal::write(std::span<const uint8_t> bytes) {
    if (header_.size() < 64)
        header_.append(reinterpret_cast<const char*>(bytes.data()), std::min<size_t>(bytes.size(), 64 - header_.size()));
    io::Buffer unused;
    sha_.process(bytes, unused);
    frame_->write(bytes);
    size_ += bytes.size();
}

void StreamedWal::sealFrame() {
    if (unsealed() == 0 || compressType_ == io::CompressType::None) return;
    frame_->finish();
    startFrame();
    sealedAt_ = size_;
}

void StreamedWal::checkRepository() {
    existing_ = findWal(repo_, layout_, archiveId_, walName_);
    checkedAt_ = std::chrono::steady_clock::now();
}

PushResult StreamedWal::finish() {
    auto h = pg::parseWalHeader({reinterpret_cast<const uint8_t*>(header_.data()), header_.size()},
                                "streamed WAL segment " + walName_);
    checkIdentity(identity_, pg::walMagicVersion(h.magic), h.systemId, layout_.stanza,
                  fmt::format("archive of streamed WAL segment {}", walName_));
    if (h.segmentSize != size_)
        raise(ErrorCode::Format, "streamed WAL segment {} has {} bytes, its header says {}", walName_, size_,
              h.segmentSize);
    frame_->finish();
    io::Buffer unused;
    sha_.finish(unused);
    const std::string& sha = sha_.hex();
    std::string target = directory_ + "/" + walName_ + "-" + sha + extension_;
    // A recent look-up stands (listing the directory is most of what finish() would otherwise
    // wait for); the same file stored meanwhile is still recognised by its name.
    if (sinceRepositoryCheck() > kRepositoryCheckAge) checkRepository();
    if (!existing_ && repo_.info(target)) existing_ = ArchivedWal{archiveId_, target, sha, compressType_};
    if (existing_) {
        if (existing_->sha256 == sha) return PushResult::AlreadyPresent;  // the temporary file goes
        raise(ErrorCode::ArchiveDuplicate,
              "archive of streamed WAL segment {}: already in the repository with a different checksum "
              "(repository '{}' has SHA-256 {}, the stream {}); refusing to overwrite",
              walName_, repo_.fullPath(existing_->path), existing_->sha256, sha);
    }
    out_->close();  // fsync
    try {
        repo_.move(temporary_, target);  // rename, fsync directory
    } catch (...) {
        repo_.remove(temporary_);
        throw;
    }
    return PushResult::Stored;
}

void removeAbandonedStreams(storage::Storage& repo, const Layout& layout, const std::string& archiveId,
                            const std::string& walName) {
    std::string dir = walDirectory(layout, archiveId, walName);
    for (const auto& entry : repo.list(dir)) {
        // <segment>.stream.<pid>.tmp
        const std::string& n = entry.name;
        if (n.size() < 24 + 12 || !pg::isWalSegmentName(n.substr(0, 24)) || n.compare(24, 8, ".stream.") != 0 ||
            !n.ends_with(".tmp"))
            continue;
        std::string pid = n.substr(32, n.size() - 32 - 4);
        if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
        if (::kill(static_cast<pid_t>(std::stol(pid)), 0) == 0 || errno != ESRCH) continue;
        repo.remove(dir + "/" + n);
        logInfo("removed '{}', left by a WAL stream that ended with its process", repo.fullPath(dir + "/" + n));
    }
}

bool getWal(storage::Storage& repo, const Layout& layout, const ArchiveInfo& info,
            const std::string& walName, storage::Storage& destination,
            const std::string& destinationPath, size_t bufferSize) {
    std::optional<ArchivedWal> found;
    for (auto it = info.history.rbegin(); it != info.history.rend() && !found; ++it)
        found = findWal(repo, layout, ArchiveInfo::archiveId(*it), walName);
    if (!found) return false;

    auto in = repo.openRead(found->path);
    storage::WriteOptions write;
    write.mode = 0600;
    write.syncFile = false;  // PostgreSQL fetches again after a crash; the rename keeps it whole
    write.syncPath = false;
    write.createPath = false;
    auto out = destination.openWrite(destinationPath, write);
    io::FilterChain chain([&](std::span<const uint8_t> bytes) { out->write(bytes); });
    chain.push(io::makeDecompressFilter(found->compressType, repo.fullPath(found->path)));
    auto& sha = chain.add<io::Sha256Filter>();
    io::Buffer buffer(bufferSize);
    for (;;) {
        size_t n = in->read({buffer.data(), buffer.capacity()});
        if (n == 0) break;
        chain.write({buffer.data(), n});
    }
    chain.finish();
    if (sha.hex() != found->sha256)
        raise(ErrorCode::Checksum,
              "archive-get: WAL file {} is damaged in the repository ('{}'): SHA-256 {} expected, {} read",
              walName, repo.fullPath(found->path), found->sha256, sha.hex());
    out->close();
    return true;
}

}  // namespace backrest::repo
