// Recovery settings for a restored cluster.
#include "worker/recovery_config.h"

#include <fmt/format.h>
#include <unistd.h>

#include <climits>
#include <filesystem>
#include <set>
#include <sstream>

#include "common/error.h"
#include "common/log.h"
#include "pg/recovery_target.h"

namespace backrest::cmd {

namespace {

std::string selfExecutable() {
    char path[PATH_MAX];
    ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
    if (n <= 0) return "backrest";
    return std::string(path, static_cast<size_t>(n));
}

std::string shellWord(const std::string& word) {
    if (word.find_first_not_of(
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=./:,%") ==
        std::string::npos)
        return word;
    std::string quoted = "'";
    for (char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return quoted + "'";
}

// PostgreSQL runs restore_command in the data directory it recovers: a path given relative to
// where restore ran would name another directory there (or none), so it is made absolute.
std::string absolutePathArg(const std::string& name, const std::string& arg) {
    auto eq = arg.find('=');
    static const std::set<std::string> paths = {
        "config",     "config-include-path", "repo1-path", "repo2-path",
        "repo3-path", "repo4-path",          "spool-path", "lock-path"};
    if (!paths.count(name) || eq == std::string::npos) return arg;
    std::string value = arg.substr(eq + 1);
    if (value.empty() || value.starts_with("/")) return arg;
    return arg.substr(0, eq + 1) + std::filesystem::absolute(value).lexically_normal().string();
}

// The archive-get command PostgreSQL will run: this binary with the options that locate the
// repository, so recovery reads the same repository the restore did.
std::string restoreCommand(const Config& config) {
    static const std::set<std::string> relevant = {
        "config", "config-include-path", "stanza", "repo1-path", "repo1-type", "buffer-size",
        "log-level-console",
        // Every repository: recovery reads a segment from the first that has it.
        "repo2-path", "repo2-type", "repo3-path", "repo3-type", "repo4-path", "repo4-type", "repo",
        // archive-get's read-ahead (archive-async) and where its spool, lock and stop files are.
        "archive-async", "spool-path", "archive-get-queue-max", "lock-path"};
    std::string command = shellWord(selfExecutable());
    for (const auto& arg : config.passThroughArgs()) {
        std::string name = arg.substr(2, arg.find('=') - 2);
        if (relevant.count(name)) command += " " + shellWord(absolutePathArg(name, arg));
    }
    if (config.source(opt::stanza) == OptionSource::Default ||
        config.source(opt::stanza) == OptionSource::ConfigFile)
        command += " " + shellWord("--stanza=" + config.getString(opt::stanza));
    // The passphrase is never written into restore_command: archive-get reads it from the config
    // file. One given only in this restore's environment is not in the server's: recovery would
    // stop at the first segment it looks for in that repository (archive-get exits 255,
    // "repo2-cipher-pass is not set"). Every repository's: recovery may read any of them.
    Config all = config.whole();
    for (int index = 1; index <= kRepoMax; index++)
        for (const char* suffix : {"cipher-pass", "cipher-type"}) {
            std::string name = fmt::format("repo{}-{}", index, suffix);
            if (!all.find(name) || all.source(name) != OptionSource::Environment) continue;
            std::string variable =
                fmt::format("REPO{}_CIPHER_{}", index,
                            std::string_view(suffix) == "cipher-pass" ? "PASS" : "TYPE");
            logWarn(
                "restore: {} comes from this command's environment (BACKREST_{} or PGBACKREST_{}), "
                "which the restored server's restore_command does not see: put it in the config "
                "file '{}' before starting the server, or recovery stops at the first WAL segment "
                "it looks for in repo{}",
                name, variable, variable, config.getString(opt::config), index);
        }
    return command + " archive-get %f \"%p\"";
}

bool isRecoverySetting(const std::string& line) {
    size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos) return false;
    std::string key = line.substr(start, line.find_first_of(" \t=", start) - start);
    return key == "restore_command" || key.starts_with("recovery_target");
}

std::string confQuote(const std::string& value) {
    std::string out = "'";
    for (char c : value) out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
}

}  // namespace

std::string RecoverySettings::describe() const {
    std::string out = "type=" + type;
    for (const auto& [k, v] : settings)
        if (k != "restore_command") out += fmt::format(", {}='{}'", k, v);
    return out;
}

RecoverySettings recoverySettings(const Config& config) {
    RecoverySettings r;
    r.type = config.find(opt::type).value_or("default");
    static const std::set<std::string> targetTypes = {"time", "xid", "lsn", "name"};
    static const std::set<std::string> types = {"default", "immediate", "time",     "xid",    "lsn",
                                                "name",    "none",      "preserve", "standby"};
    if (!types.count(r.type))
        raise(ErrorCode::Option,
              "invalid value '{}' for option 'type' of restore (expected default, immediate, time, "
              "xid, lsn, name, none, preserve or standby)",
              r.type);
    auto target = config.find(opt::target);
    if (targetTypes.count(r.type) && (!target || target->empty()))
        raise(ErrorCode::Option, "option 'target' is required for restore --type={}", r.type);
    if (!targetTypes.count(r.type) && target)
        raise(ErrorCode::Option,
              "option 'target' is only valid with --type=time, xid, lsn or name (not {})", r.type);
    std::string value = target.value_or("");
    if (r.type == "time") {
        auto time = pg::parseTargetTime(value);
        r.targetTime = time.epoch;
        value = time.setting;  // with the zone it was read in
    } else if (r.type == "xid") {
        pg::parseTargetXid(value);
    } else if (r.type == "lsn") {
        r.targetLsn = pg::parseTargetLsn(value);
    } else if (r.type == "name") {
        pg::checkTargetName(value);
    }
    // A copy restored for a drill or a test must not push its new timeline into the stanza.
    const bool archiveOff = config.getString(opt::archiveMode) == "off";
    if (archiveOff && r.type == "preserve")
        raise(ErrorCode::Option,
              "option 'archive-mode=off' cannot be used with --type=preserve, which keeps the "
              "backup's postgresql.auto.conf as it is; use another --type, or set archive_mode "
              "yourself");
    if (archiveOff) r.settings.emplace_back("archive_mode", "off");
    if (r.type == "preserve" || r.type == "none") return r;

    r.settings.emplace_back("restore_command", restoreCommand(config));
    if (r.type == "immediate") r.settings.emplace_back("recovery_target", "immediate");
    if (targetTypes.count(r.type)) r.settings.emplace_back("recovery_target_" + r.type, value);
    if (targetTypes.count(r.type) && r.type != "name" && config.getBool(opt::targetExclusive))
        r.settings.emplace_back("recovery_target_inclusive", "false");
    if (r.type == "immediate" || targetTypes.count(r.type))
        r.settings.emplace_back("recovery_target_action", config.getString(opt::targetAction));
    if (auto timeline = config.find(opt::targetTimeline))
        r.settings.emplace_back("recovery_target_timeline", pg::parseTargetTimeline(*timeline));
    for (const auto& option : config.getMulti(opt::recoveryOption)) {
        auto eq = option.find('=');
        if (eq == std::string::npos || eq == 0)
            raise(ErrorCode::Option,
                  "invalid value '{}' for option 'recovery-option' (expected name=value)", option);
        std::string name = option.substr(0, eq), value = option.substr(eq + 1);
        // Restore checks the archive along the timeline PostgreSQL will follow: the same reading.
        if (name == "recovery_target_timeline")
            value = pg::parseTargetTimeline(value, "recovery-option=recovery_target_timeline");
        r.settings.emplace_back(name, value);
    }
    r.signalFile = r.type == "standby" ? "standby.signal" : "recovery.signal";
    return r;
}

std::vector<std::string> writeRecoveryConfig(storage::Storage& dataDir,
                                             const RecoverySettings& recovery) {
    if (recovery.type == "preserve") return {};
    std::string existing = storage::readAllIfExists(dataDir, "postgresql.auto.conf").value_or("");
    std::ostringstream out;
    std::istringstream in(existing);
    for (std::string line; std::getline(in, line);)
        out << (isRecoverySetting(line) ? "# Removed by backrest restore: " + line : line) << '\n';
    if (!recovery.settings.empty()) {
        out << "\n# Recovery settings written by backrest restore\n";
        for (const auto& [name, value] : recovery.settings)
            out << name << " = " << confQuote(value) << '\n';
    }
    storage::WriteOptions write;
    write.mode = 0600;
    storage::writeAll(dataDir, "postgresql.auto.conf", out.str(), write);
    std::vector<std::string> written{"postgresql.auto.conf"};
    if (!recovery.signalFile.empty()) {
        storage::writeAll(dataDir, recovery.signalFile, "", write);
        written.push_back(recovery.signalFile);
    }
    return written;
}

}  // namespace backrest::cmd
