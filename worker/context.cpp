// Shared command plumbing.
#include "worker/context.h"

#include <fmt/format.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "common/error.h"
#include "common/user.h"
#include "repo/wal_archive.h"
#include "worker/repo_storage.h"

namespace backrest::cmd {

namespace {

// A file another user writes into the repository (a root backup's backup.info) can leave it
// unreadable to its owner: only the owner writes. Nothing is written before this check.
void requireOwner(const Config& config, const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return;  // stanza-create makes it; others fail on their own
    uid_t me = ::geteuid();
    if (st.st_uid == me) return;
    std::string owner = userName(st.st_uid);
    raise(ErrorCode::RepoOwner,
          "{}: repository '{}' belongs to user '{}', not '{}' who runs this command: files written "
          "now would be "
          "unreadable to the repository's owner. Run it as that user, e.g. 'sudo -u {} backrest "
          "... {}'",
          config.command(), path, owner, userName(me), owner, config.command());
}

// The key of the stanza this command works on, opened by openRepo: every command opens its
// repository once, before it takes the stanza's layout (metadata) and codec (data), so those
// two carry it without each command passing it along. The daemon opens it once at start.
std::shared_ptr<const crypto::RepoKey>& openedKey() {
    static std::shared_ptr<const crypto::RepoKey> key;
    return key;
}

std::string repoPath(const Config& config) {
    std::string path = config.getString(opt::repo1Path);
    if (path.empty() || path[0] != '/')
        raise(ErrorCode::Option, "option 'repo1-path' must be an absolute path, not '{}'", path);
    return path;
}

}  // namespace

std::unique_ptr<storage::Storage> openRepoStorage(const Config& config, RepoAccess access) {
    auto repo = makeRepoStorage(config);
    // Only a filesystem has an owner; an object store's credentials say who may write.
    if (access == RepoAccess::Write && repo->features().ownership)
        requireOwner(config, repoPath(config));
    return repo;
}

std::unique_ptr<storage::Storage> openRepo(const Config& config, RepoAccess access) {
    auto repo = openRepoStorage(config, access);
    // Before anything is written: a wrong passphrase fails here, not halfway through a backup.
    if (config.find(opt::stanza))
        openedKey() = openStanzaKey(config, *repo, config.getString(opt::stanza));
    return repo;
}

repo::CipherSettings cipherSettings(const Config& config) {
    return {config.getString(opt::repo1CipherType), config.find(opt::repo1CipherPass)};
}

std::shared_ptr<const crypto::RepoKey> openStanzaKey(const Config& config, storage::Storage& repo,
                                                     const std::string& stanza) {
    repo::Layout layout{stanza, nullptr};
    return repo::openRepoKey(repo, layout, cipherSettings(config));
}

void useRepoKey(std::shared_ptr<const crypto::RepoKey> key) {
    openedKey() = std::move(key);
}

std::optional<repo::LockOwner> lockOwner(const Config& config) {
    struct stat st {};
    if (::geteuid() != 0 || ::stat(repoPath(config).c_str(), &st) != 0) return std::nullopt;
    return repo::LockOwner{st.st_uid, st.st_gid};
}

repo::Layout stanzaLayout(const Config& config) {
    std::string stanza = config.getString(opt::stanza);
    if (stanza.empty() || stanza.find_first_of("/ \t") != std::string::npos || stanza[0] == '.')
        raise(ErrorCode::Option, "invalid stanza name '{}': use letters, digits, '-' and '_'",
              stanza);
    return repo::Layout{stanza, openedKey()};
}

pg::ConnectOptions connectOptions(const Config& config) {
    pg::ConnectOptions o;
    if (auto s = config.find(opt::pg1SocketPath)) o.socketPath = *s;
    o.port = static_cast<int>(config.getInt(opt::pg1Port));
    if (auto u = config.find(opt::pg1User)) o.user = *u;
    o.database = config.getString(opt::pg1Database);
    return o;
}

// compress-level unset takes the type's default, as pgBackRest's (zst 3, lz4 1).
repo::RepoCodec repoCodec(const Config& config) {
    io::CompressType type = io::parseCompressType(config.getString(opt::compressType));
    int level = config.source(opt::compressLevel) == OptionSource::Default
                    ? io::defaultCompressLevel(type)
                    : static_cast<int>(config.getInt(opt::compressLevel));
    io::checkCompressLevel(type, level);
    return repo::RepoCodec(type, level).withKey(openedKey());
}

repo::TransferOptions transferOptions(const Config& config) {
    repo::TransferOptions o;
    o.codec = repoCodec(config);
    o.checksumType = io::parseChecksumType(config.getString(opt::checksumType));
    o.bufferSize = static_cast<size_t>(config.getInt(opt::bufferSize));
    if (o.bufferSize < 16384 || o.bufferSize > 64 * 1024 * 1024)
        raise(ErrorCode::Option, "option 'buffer-size' must be between 16384 and 67108864, not {}",
              o.bufferSize);
    return o;
}

repo::BundleSettings bundleSettings(const Config& config) {
    repo::BundleSettings b;
    b.enabled = config.getBool(opt::repo1Bundle);
    b.size = static_cast<uint64_t>(config.getInt(opt::repo1BundleSize));
    b.limit = static_cast<uint64_t>(config.getInt(opt::repo1BundleLimit));
    if (b.enabled && b.limit > b.size)
        raise(
            ErrorCode::Option,
            "option 'repo1-bundle-limit' ({} bytes) is larger than 'repo1-bundle-size' ({} bytes)",
            b.limit, b.size);
    return b;
}

std::string pgPath(const Config& config) {
    std::string path = config.getString(opt::pg1Path);
    if (path.empty() || path[0] != '/')
        raise(ErrorCode::Option, "option 'pg1-path' must be an absolute path, not '{}'", path);
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    return path;
}

double nowSeconds() {
    using namespace std::chrono;
    return duration<double>(system_clock::now().time_since_epoch()).count();
}

std::string formatBytes(uint64_t bytes) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = static_cast<double>(bytes);
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    return u == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.1f} {}", v, units[u]);
}

std::string formatTimestamp(int64_t epoch) {
    std::time_t t = static_cast<std::time_t>(epoch);
    std::tm tm{};
    gmtime_r(&t, &tm);
    return fmt::format("{:04d}-{:02d}-{:02d} {:02d}:{:02d}:{:02d}+00", tm.tm_year + 1900,
                       tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void waitForArchive(storage::Storage& repo, const repo::Layout& layout,
                    const std::string& archiveId, const std::vector<std::string>& segments,
                    int timeoutSeconds, const std::string& what) {
    double deadline = nowSeconds() + timeoutSeconds;
    auto pause = std::chrono::milliseconds(10);  // archived within ms, usually
    for (const auto& segment : segments) {
        for (;;) {
            if (repo::findWal(repo, layout, archiveId, segment)) break;
            if (nowSeconds() > deadline)
                raise(ErrorCode::ArchiveTimeout,
                      "{}: WAL segment {} was not archived within archive-timeout ({} s); check "
                      "archive_command / archive_library and the server log",
                      what, segment, timeoutSeconds);
            // Each look lists the archive (a request to an object store): the pause doubles.
            std::this_thread::sleep_for(pause);
            pause = std::min(pause * 2, std::chrono::milliseconds(500));
        }
    }
}

}  // namespace backrest::cmd
