// WAL push/get against the repository layout.
#include "repo/wal_archive.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "common/error.h"
#include "common/log.h"
#include "io/buffer.h"
#include "io/filter_chain.h"
#include "io/sha256.h"
#include "io/size.h"
#include "pg/wal.h"
#include "repo/codec.h"
#include "repo/piece.h"
#include "repo/wal_spool.h"
#include "repo/wal_stored_copy.h"

namespace backrest::repo {

namespace {

bool isHistory(const std::string& walName) {
    return pg::isHistoryFileName(walName);
}

// Directory of a WAL file: history files sit in the archive id's root, everything else in the
// directory named by the first 16 hex digits of the segment.
std::string walDirectory(const Layout& layout, const std::string& archiveId,
                         const std::string& walName) {
    return isHistory(walName) ? layout.archiveIdDir(archiveId) : layout.walDir(archiveId, walName);
}

io::CompressType compressTypeOfName(const std::string& fileName) {
    return io::compressTypeOfStoredName(fileName);
}

std::string fileSha256(storage::Storage& source, const std::string& path, size_t bufferSize,
                       std::string* header, uint64_t* size) {
    auto in = source.openRead(path);
    io::Sha256Filter sha;
    io::Buffer buffer(bufferSize);
    io::Buffer unused;
    bool first = true;
    for (;;) {
        size_t n = in->read({buffer.data(), buffer.capacity()});
        if (n == 0) break;
        if (first && header)
            header->assign(reinterpret_cast<const char*>(buffer.data()), std::min<size_t>(n, 64));
        first = false;
        *size += n;
        sha.process({buffer.data(), n}, unused);
    }
    sha.finish(unused);
    return sha.hex();
}

// What archive-get hands PostgreSQL must be the segment asked for, whole, of the right cluster:
// a copy cut short or of another cluster would be replayed, or end recovery early.
void checkRestoredSegment(const std::string& walName, const std::string& where,
                          const std::string& header, uint64_t size, const DbIdentity& identity) {
    pg::WalHeader h;
    try {
        h = pg::parseWalHeader({reinterpret_cast<const uint8_t*>(header.data()), header.size()},
                               where);
    } catch (const Error& e) {
        raise(ErrorCode::Format,
              "archive-get: WAL segment {} in the repository ('{}') is not a WAL segment: {}",
              walName, where, e.what());
    }
    if (size != h.segmentSize)
        raise(ErrorCode::Format,
              "archive-get: WAL segment {} in the repository ('{}') has {} bytes where its header "
              "gives a segment size of {}: the stored copy is incomplete",
              walName, where, size, h.segmentSize);
    auto segment = pg::WalSegment::parse(walName, h.segmentSize);
    if (!segment || h.pageAddress != segment->segno * h.segmentSize)
        raise(ErrorCode::Format,
              "archive-get: WAL segment {} in the repository ('{}') holds the bytes of another "
              "segment (its header starts at {})",
              walName, where, pg::formatLsn(h.pageAddress));
    if (h.systemId != identity.systemId)
        raise(ErrorCode::DbMismatch,
              "archive-get: WAL segment {} in the repository ('{}') belongs to the cluster with "
              "system identifier {}, not to {} recorded in archive.info",
              walName, where, h.systemId, identity.systemId);
}

}  // namespace

bool isStoredWalCopy(const std::string& entryName, const std::string& walName) {
    std::string prefix = walName + "-";
    if (!entryName.starts_with(prefix) || entryName.ends_with(".tmp")) return false;
    std::string rest = entryName.substr(prefix.size());
    // A bad copy set aside (wal_stored_copy.h) is never a stored one.
    if (rest.find(".bad") != std::string::npos) return false;
    return rest.substr(0, rest.find('.')).size() == 64;  // else a temporary file
}

std::optional<ArchivedWal> findWal(storage::Storage& repo, const Layout& layout,
                                   const std::string& archiveId, const std::string& walName) {
    std::string dir = walDirectory(layout, archiveId, walName);
    std::string prefix = walName + "-";
    std::vector<ArchivedWal> copies;
    // Only this file's names: "<wal>-" so that ...01 does not also list ...010 (a .history or
    // .backup name has no such neighbour but is looked up the same way). On an object store one
    // request whose reply is a name or two, where the whole directory (up to 256 segments of
    // 16 MiB, more with smaller ones) took a page or more.
    for (const auto& entry : repo.listPrefix(dir, prefix)) {
        if (entry.type != storage::FileType::File || !isStoredWalCopy(entry.name, walName))
            continue;
        std::string rest = entry.name.substr(prefix.size());
        std::string sha = rest.substr(0, rest.find('.'));
        copies.push_back(ArchivedWal{archiveId, dir + "/" + entry.name, sha,
                                     compressTypeOfName(entry.name), layout.key});
    }
    if (copies.size() < 2) return copies.empty() ? std::nullopt : std::optional(copies.front());
    // Two copies: a replacement of a bad copy is under way (or was interrupted between storing the
    // good copy and setting the bad one aside). Only the good one counts; two good ones are an
    // error.
    std::vector<ArchivedWal> good;
    for (const auto& copy : copies) {
        if (!repo.info(copy.path)) continue;  // set aside meanwhile
        std::string problem = storedWalProblem(repo, walName, copy, 1024 * 1024);
        if (problem.empty())
            good.push_back(copy);
        else
            logWarn(
                "WAL file {} is stored twice in archive {}; '{}' is bad ({}) and is ignored (left "
                "by an interrupted replacement): rename it to '{}'",
                walName, archiveId, repo.fullPath(copy.path), problem,
                repo.fullPath(setAsidePath(copy.path)));
    }
    if (good.size() == 1) return good.front();
    raise(ErrorCode::Format,
          "WAL file {} is stored twice in archive {} ('{}' and '{}'){}; remove the wrong one",
          walName, archiveId, repo.fullPath(copies[0].path), repo.fullPath(copies[1].path),
          good.empty() ? ", both damaged" : "");
}

namespace {

// Second pass: the bytes may not change between the passes (PostgreSQL never rewrites a
// completed segment), and the checksum is verified again to be sure.
void storeWal(storage::Storage& repo, storage::Storage& source, const std::string& sourcePath,
              const std::string& target, const std::string& sha, const RepoCodec& codec,
              const PushOptions& options) {
    auto in = source.openRead(sourcePath);
    auto out = repo.openWrite(target);  // atomic, fsync file, rename, fsync directory
    io::FilterChain chain([&](std::span<const uint8_t> bytes) { out->write(bytes); });
    auto& again = chain.add<io::Sha256Filter>();
    codec.pushEncode(chain, walPiece(target));
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
}

}  // namespace

namespace {

// A push that failed where it could not even remove its temporary file (the directory's
// permissions taken away mid-write, a kill -9, a crash) leaves "<wal>-<sha>.<ext>.<pid>.<n>.tmp"
// (storage/posix.cpp) beside the archive. The next push of that file removes those whose process
// is gone from this host. Only on storage with directories: an object store writes no temporary
// objects, and listing there is a request. A repository shared over NFS with a second host
// pushing the same file at the same moment could lose that push's temporary file; its rename
// then fails and PostgreSQL retries it.
void removeDeadPushTemps(storage::Storage& repo, const std::string& dir,
                         const std::string& walName) {
    if (!repo.features().path) return;
    for (const auto& entry : repo.listPrefix(dir, walName + "-")) {
        const std::string& name = entry.name;
        if (!name.starts_with(walName + "-") || !name.ends_with(".tmp")) continue;
        std::string stem = name.substr(0, name.size() - 4);  // ".<pid>.<n>"
        size_t counterDot = stem.rfind('.');
        if (counterDot == std::string::npos) continue;
        size_t pidDot = stem.rfind('.', counterDot - 1);
        if (pidDot == std::string::npos) continue;
        std::string pidText = stem.substr(pidDot + 1, counterDot - pidDot - 1);
        if (pidText.empty() || pidText.find_first_not_of("0123456789") != std::string::npos ||
            pidText.size() > 9)
            continue;
        pid_t pid = static_cast<pid_t>(std::stol(pidText));
        if (pid == ::getpid() || ::kill(pid, 0) == 0 || errno != ESRCH) continue;
        logInfo("archive-push: removing {}, left by a push (pid {}) that ended without it",
                repo.fullPath(dir + "/" + name), pid);
        repo.remove(dir + "/" + name);
    }
}

}  // namespace

PushResult pushWal(storage::Storage& repo, const Layout& layout, const ArchiveInfo& info,
                   storage::Storage& source, const std::string& sourcePath,
                   const std::string& clusterVersion, uint64_t clusterSystemId,
                   const PushOptions& options) {
    std::string walName = std::filesystem::path(sourcePath).filename();
    bool segment = pg::isWalSegmentName(walName) || pg::isPartialName(walName);
    if (!segment && !isHistory(walName) && !pg::isBackupHistoryName(walName))
        raise(ErrorCode::Command,
              "archive-push: '{}' is not a WAL segment, history or backup history file",
              source.fullPath(sourcePath));

    checkIdentity(info.current(), clusterVersion, clusterSystemId, layout.stanza,
                  fmt::format("archive-push of {}", walName));

    // First pass: checksum (it names the stored file) and, for segments, the header's identity.
    std::string header;
    uint64_t size = 0;
    std::string sha = fileSha256(source, sourcePath, options.bufferSize, &header, &size);
    if (segment) {
        auto h =
            pg::parseWalHeader({reinterpret_cast<const uint8_t*>(header.data()), header.size()},
                               source.fullPath(sourcePath));
        checkIdentity(info.current(), pg::walMagicVersion(h.magic), h.systemId, layout.stanza,
                      fmt::format("archive-push of WAL segment {}", walName));
        // A copy cut short (or padded) would be taken for the segment and refuse the real one
        // later. A .partial keeps its own rule: PostgreSQL writes it whole, but it is never
        // replayed as is.
        uint32_t expected = options.walSegmentSize ? options.walSegmentSize : h.segmentSize;
        if (pg::isWalSegmentName(walName) && (size != expected || size != h.segmentSize))
            raise(ErrorCode::Format,
                  "archive-push: '{}' has {} bytes, but a WAL segment of this cluster has {} "
                  "bytes{}; refusing to archive it (push the complete segment from pg_wal)",
                  source.fullPath(sourcePath), size, expected,
                  expected != h.segmentSize ? fmt::format(" (its header says {})", h.segmentSize)
                                            : "");
    }

    std::string archiveId = info.currentArchiveId();
    // History files stay uncompressed: they are tiny and read by people.
    io::CompressType type = isHistory(walName) ? io::CompressType::None : options.compressType;
    std::string target = walDirectory(layout, archiveId, walName) + "/" + walName + "-" + sha +
                         std::string(io::compressExtension(type));

    removeDeadPushTemps(repo, walDirectory(layout, archiveId, walName), walName);
    std::optional<StoredCopyDecision> decision;
    auto existing = findWal(repo, layout, archiveId, walName);
    if (existing) {
        decision = judgeStoredCopy(repo, walName, *existing, sha, options.bufferSize);
        if (decision->action == StoredCopyAction::KeepIdentical) {
            logInfo(
                "archive-push: {} already in the repository with the same checksum; nothing to do",
                walName);
            return PushResult::AlreadyPresent;
        }
        if (decision->action == StoredCopyAction::Refuse)
            raise(ErrorCode::ArchiveDuplicate,
                  "archive-push: WAL file {} already in the repository with a different checksum "
                  "(repository '{}' has SHA-256 {}, '{}' has {}); refusing to overwrite",
                  walName, repo.fullPath(existing->path), existing->sha256,
                  source.fullPath(sourcePath), sha);
    }
    auto store = [&] {
        storeWal(repo, source, sourcePath, target, sha,
                 RepoCodec(type, options.compressLevel).withKey(layout.key), options);
    };
    if (decision)
        replaceBadStoredCopy(repo, walName, *existing, decision->problem, target, store,
                             "archive-push");
    else
        store();
    return PushResult::Stored;
}

StreamedWal::StreamedWal(storage::Storage& repo, const Layout& layout, const ArchiveInfo& info,
                         std::string walName, const std::string& clusterVersion,
                         uint64_t clusterSystemId, const PushOptions& options)
    : repo_(repo),
      layout_(layout),
      archiveId_(info.currentArchiveId()),
      walName_(std::move(walName)),
      directory_(walDirectory(layout, archiveId_, walName_)),
      extension_(io::compressExtension(options.compressType)),
      identity_(info.current()),
      compressType_(options.compressType),
      compressLevel_(options.compressLevel),
      bufferSize_(options.bufferSize) {
    if (!pg::isWalSegmentName(walName_))
        raise(ErrorCode::Assert, "a streamed WAL file must be a segment, not '{}'", walName_);
    if (options.spoolPath.empty())
        raise(ErrorCode::Assert, "streamed WAL segment {}: no spool-path to gather it in",
              walName_);
    checkIdentity(identity_, clusterVersion, clusterSystemId, layout.stanza,
                  fmt::format("archive of streamed WAL segment {}", walName_));
    spool_ = std::make_unique<WalSpool>(options.spoolPath, layout.stanza, walName_);
    startFrame();
    checkRepository();
}

StreamedWal::~StreamedWal() = default;

void StreamedWal::startFrame() {
    frame_ = std::make_unique<io::FilterChain>(
        [this](std::span<const uint8_t> bytes) { spool_->write(bytes); });
    // Compressed only: the piece names the SHA-256, known at finish(), when the spooled bytes
    // are sealed on their way to the repository (storeSpooled).
    RepoCodec(compressType_, compressLevel_)
        .pushEncode(*frame_, walPiece(directory_ + "/" + walName_));
}

void StreamedWal::write(std::span<const uint8_t> bytes) {
    if (header_.size() < 64)
        header_.append(reinterpret_cast<const char*>(bytes.data()),
                       std::min<size_t>(bytes.size(), 64 - header_.size()));
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

void StreamedWal::syncWritten() {
    spool_->syncWritten();
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
        raise(ErrorCode::Format, "streamed WAL segment {} has {} bytes, its header says {}",
              walName_, size_, h.segmentSize);
    frame_->finish();
    io::Buffer unused;
    sha_.finish(unused);
    const std::string& sha = sha_.hex();
    std::string target = directory_ + "/" + walName_ + "-" + sha + extension_;
    // A recent look-up stands (listing the directory is most of what finish() would otherwise
    // wait for); the same file stored meanwhile is still recognised by its name.
    if (sinceRepositoryCheck() > kRepositoryCheckAge) checkRepository();
    if (!existing_ && repo_.info(target))
        existing_ = ArchivedWal{archiveId_, target, sha, compressType_, layout_.key};
    std::optional<StoredCopyDecision> decision;
    if (existing_) {
        decision = judgeStoredCopy(repo_, walName_, *existing_, sha, 1024 * 1024);
        if (decision->action == StoredCopyAction::KeepIdentical) {
            spool_.reset();
            return PushResult::AlreadyPresent;
        }
        if (decision->action == StoredCopyAction::Refuse)
            raise(ErrorCode::ArchiveDuplicate,
                  "archive of streamed WAL segment {}: already in the repository with a different "
                  "checksum (repository '{}' has SHA-256 {}, the stream {}); refusing to overwrite",
                  walName_, repo_.fullPath(existing_->path), existing_->sha256, sha);
    }
    auto store = [&] { storeSpooled(target); };
    if (decision)
        replaceBadStoredCopy(repo_, walName_, *existing_, decision->problem, target, store,
                             "archive of streamed WAL segment " + walName_);
    else
        store();
    spool_.reset();
    return PushResult::Stored;
}

// The spooled bytes, whole, in one atomic write: the name appears (and the segment counts as
// archived) only once close() returned.
void StreamedWal::storeSpooled(const std::string& target) {
    auto in = spool_->read();
    auto out = repo_.openWrite(target);
    // The spool holds compressed frames (one zstd stream once concatenated); with a key they
    // are sealed here as one unit, as archive-push seals a segment.
    io::FilterChain chain([&](std::span<const uint8_t> bytes) { out->write(bytes); });
    RepoCodec().withKey(layout_.key).pushEncode(chain, walPiece(target));
    io::Buffer buffer(bufferSize_);
    for (size_t n; (n = in->read({buffer.data(), buffer.capacity()})) > 0;)
        chain.write({buffer.data(), n});
    chain.finish();
    out->close();
}

bool getWal(storage::Storage& repo, const Layout& layout, const ArchiveInfo& info,
            const std::string& walName, storage::Storage& destination,
            const std::string& destinationPath, size_t bufferSize,
            std::optional<uint64_t> clusterSystemId, std::string* sha256) {
    // After a stanza-upgrade from a new initdb both clusters have their own 000000010000...01:
    // a restoring cluster is served only from the archive ids of its own system (pgBackRest's
    // rule), newest first.
    auto ownArchive = [&](const DbIdentity& db) {
        return !clusterSystemId || db.systemId == *clusterSystemId;
    };
    std::optional<ArchivedWal> found;
    const DbIdentity* identity = nullptr;
    for (auto it = info.history.rbegin(); it != info.history.rend() && !found; ++it) {
        if (!ownArchive(*it)) continue;
        found = findWal(repo, layout, ArchiveInfo::archiveId(*it), walName);
        identity = &*it;
    }
    if (!identity)
        raise(
            ErrorCode::DbMismatch,
            "archive-get: the data directory being restored has system identifier {} "
            "(global/pg_control), but no database of stanza '{}' in archive.info has it (current: "
            "PostgreSQL {} system {}): check --stanza and the repository",
            *clusterSystemId, layout.stanza, info.current().version, info.current().systemId);
    if (!found) return false;
    const std::string where = repo.fullPath(found->path);

    storage::WriteOptions write;
    write.mode = 0600;
    write.syncFile = false;  // PostgreSQL fetches again after a crash; the rename keeps it whole
    write.syncPath = false;
    write.createPath = false;
    auto out = destination.openWrite(destinationPath, write);
    StoredWalBytes read;
    try {
        read = readStoredWal(repo, *found, bufferSize,
                             [&](std::span<const uint8_t> bytes) { out->write(bytes); });
    } catch (const Error& e) {
        throw Error(
            e.code(),
            fmt::format("archive-get: WAL file {} cannot be read from the repository ('{}'): {}",
                        walName, where, e.what()));
    }
    if (read.sha256 != found->sha256)
        raise(ErrorCode::Checksum,
              "archive-get: WAL file {} is damaged in the repository ('{}'): SHA-256 {} expected, "
              "{} read",
              walName, where, found->sha256, read.sha256);
    if (pg::isWalSegmentName(walName))
        checkRestoredSegment(walName, where, read.header, read.size, *identity);
    out->close();
    if (sha256) *sha256 = read.sha256;
    return true;
}

}  // namespace backrest::repo
