#include "repo/label_claim.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <random>
#include <sstream>

#include "common/error.h"

namespace backrest::repo {

namespace {

constexpr std::string_view kClaimPrefix = "backup.claim.";

std::string hostName() {
    char host[256] = {};
    if (gethostname(host, sizeof(host) - 1) != 0 || !host[0]) return "unknown-host";
    return host;
}

std::string claimName() {
    std::random_device random;
    return fmt::format("{}{}-{}-{:08x}{:08x}", kClaimPrefix, hostName(), getpid(), random(),
                       random());
}

}  // namespace

LabelClaim::LabelClaim(storage::Storage& repo, const Layout& layout, const std::string& label)
    : repo_(repo) {
    std::string dir = layout.backupDir(label);
    std::string mine = claimName();
    path_ = dir + "/" + mine;
    // The content says who: "<host> <pid>", read by runningClaim().
    storage::writeAll(repo_, path_, fmt::format("{} {}\n", hostName(), getpid()));
    for (const auto& entry : repo_.list(dir))
        if (entry.name.starts_with(kClaimPrefix) && entry.name != mine) other_ = entry.name;
    if (!other_.empty()) repo_.remove(path_);
}

void LabelClaim::raiseTaken(const Layout& layout, const std::string& label) const {
    raise(ErrorCode::Lock,
          "backup {}: another backup of stanza '{}' chose the same label at the same moment and is "
          "writing '{}' (its claim is '{}'); lock-path only locks backups on one host: run the "
          "backups of a stanza from one host (or one at a time), then retry",
          label, layout.stanza, repo_.fullPath(layout.backupDir(label)),
          other_.substr(kClaimPrefix.size()));
}

std::optional<std::string> runningClaim(storage::Storage& repo, const Layout& layout,
                                        const std::string& label) {
    std::string dir = layout.backupDir(label);
    for (const auto& entry : repo.list(dir)) {
        if (!entry.name.starts_with(kClaimPrefix)) continue;
        auto content = storage::readAllIfExists(repo, dir + "/" + entry.name);
        if (!content) continue;  // released meanwhile
        std::istringstream in(*content);
        std::string host;
        long pid = 0;
        in >> host >> pid;
        // This process's own claim is a backup it ran before and that failed (a daemon lives on).
        if (host == hostName() && pid == getpid()) continue;
        if (host != hostName() || pid <= 0 || kill(static_cast<pid_t>(pid), 0) == 0 ||
            errno == EPERM)
            return fmt::format("host {} process {}", host, pid);
    }
    return std::nullopt;
}

void LabelClaim::release() {
    repo_.remove(path_);
}

}  // namespace backrest::repo
