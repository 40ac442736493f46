// The table of pgBackRest 2.45 options backrest does not implement, and the decision for each:
// ignore with a warning (harmless), accept when set to what backrest does anyway, or refuse.
#include "common/foreign_options.h"

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/error.h"
#include "common/log.h"

namespace backrest {

namespace {

struct ForeignOption {
    std::string_view
        name;       // indexed options without their index: "repo-cipher-type" for repo1-cipher-type
    bool harmless;  // ignoring it changes no byte backed up, restored, kept or protected
    // For an unsafe option: the value meaning what backrest does anyway (accepted silently); empty:
    // none.
    std::string_view sameAsBackrest;
    std::string_view effect;  // what the option would have changed, for the message
};

// pgBackRest 2.45 (`pgbackrest help <command>` for every command), less the options backrest
// implements. Kept sorted by name.
constexpr ForeignOption kForeignOptions[] = {
    {"archive-copy", false, "n", "copies the WAL a backup needs into the backup itself"},
    {"archive-header-check", true, "", "checks WAL headers (backrest always does)"},
    {"archive-missing-retry", true, "",
     "retries a missing WAL segment in asynchronous archive-get"},
    {"archive-mode-check", true, "", "checks archive_mode=always"},
    {"beta", true, "", "enables pgBackRest's beta features"},
    {"checksum-page", true, "",
     "validates page checksums (backrest always does on clusters with them)"},
    {"cmd", true, "", "names the pgBackRest executable for commands it generates"},
    {"cmd-ssh", false, "", "sets the ssh command used to reach a remote host"},
    {"compress", true, "", "is the deprecated form of compress-type"},
    {"compress-level-network", true, "", "sets the compression of a remote protocol"},
    {"config-path", false, "",
     "reads option files from another directory (their options would be ignored)"},
    {"db-exclude", false, "", "restores only some databases"},
    {"db-include", false, "", "restores only some databases"},
    {"exclude", false, "", "leaves paths out of the backup"},
    {"expire-auto", false, "y", "turns off the expire that follows each backup"},
    {"io-timeout", true, "", "sets a network I/O timeout"},
    {"job-retry", true, "", "retries a failed job"},
    {"job-retry-interval", true, "", "spaces retries of a failed job"},
    {"link-all", false, "n", "restores every symlink of the data directory as a link"},
    {"link-map", false, "", "restores a symlink of the data directory elsewhere"},
    {"log-level-stderr", true, "", "sets the level of messages on stderr"},
    {"log-subprocess", true, "", "logs subprocesses"},
    {"log-timestamp", true, "", "prints timestamps in logs"},
    {"manifest-save-threshold", true, "", "sets how often the manifest is saved during a backup"},
    {"neutral-umask", true, "", "sets the umask of pgBackRest's processes"},
    {"online", false, "y", "takes an offline backup of a stopped cluster"},
    {"pg", false, "1", "selects another PostgreSQL host than pg1"},
    {"pg-host", false, "", "reaches PostgreSQL on another host"},
    {"pg-host-ca-file", false, "", "sets TLS for a remote PostgreSQL host"},
    {"pg-host-ca-path", false, "", "sets TLS for a remote PostgreSQL host"},
    {"pg-host-cert-file", false, "", "sets TLS for a remote PostgreSQL host"},
    {"pg-host-cmd", false, "", "sets the command run on a remote PostgreSQL host"},
    {"pg-host-config", false, "", "sets the option file of a remote PostgreSQL host"},
    {"pg-host-config-include-path", false, "", "sets the option files of a remote PostgreSQL host"},
    {"pg-host-config-path", false, "", "sets the option files of a remote PostgreSQL host"},
    {"pg-host-key-file", false, "", "sets TLS for a remote PostgreSQL host"},
    {"pg-host-port", false, "", "reaches PostgreSQL on another host"},
    {"pg-host-type", false, "", "reaches PostgreSQL on another host"},
    {"pg-host-user", false, "", "reaches PostgreSQL on another host"},
    {"protocol-timeout", true, "", "sets a remote protocol timeout"},
    {"repo-block-age-map", true, "", "tunes block incremental block sizes"},
    {"repo-block-checksum-size-map", true, "", "tunes block incremental checksums"},
    {"repo-block-size-map", true, "", "tunes block incremental block sizes"},
    {"repo-block-size-super", true, "", "tunes block incremental super blocks"},
    {"repo-block-size-super-full", true, "", "tunes block incremental super blocks"},
    {"repo-gcs-bucket", false, "", "stores the repository in Google Cloud Storage"},
    {"repo-gcs-endpoint", false, "", "stores the repository in Google Cloud Storage"},
    {"repo-gcs-key", false, "", "stores the repository in Google Cloud Storage"},
    {"repo-gcs-key-type", false, "", "stores the repository in Google Cloud Storage"},
    {"repo-hardlink", true, "", "hardlinks unchanged files between backups"},
    {"repo-host", false, "", "keeps the repository on a backup host"},
    {"repo-host-ca-file", false, "", "sets TLS for a repository host"},
    {"repo-host-ca-path", false, "", "sets TLS for a repository host"},
    {"repo-host-cert-file", false, "", "sets TLS for a repository host"},
    {"repo-host-cmd", false, "", "sets the command run on a repository host"},
    {"repo-host-config", false, "", "sets the option file of a repository host"},
    {"repo-host-config-include-path", false, "", "sets the option files of a repository host"},
    {"repo-host-config-path", false, "", "sets the option files of a repository host"},
    {"repo-host-key-file", false, "", "sets TLS for a repository host"},
    {"repo-host-port", false, "", "keeps the repository on a backup host"},
    {"repo-host-type", false, "", "keeps the repository on a backup host"},
    {"repo-host-user", false, "", "keeps the repository on a backup host"},
    {"repo-s3-kms-key-id", false, "", "encrypts the repository's objects in S3"},
    {"repo-s3-role", false, "", "stores the repository in S3"},
    {"resume", true, "", "resumes an interrupted backup (backrest does, after checking each file)"},
    {"sck-keep-alive", true, "", "sets socket keep-alive"},
    {"stop-auto", true, "", "stops a previous exclusive backup"},
    {"tcp-keep-alive-count", true, "", "sets TCP keep-alive"},
    {"tcp-keep-alive-idle", true, "", "sets TCP keep-alive"},
    {"tcp-keep-alive-interval", true, "", "sets TCP keep-alive"},
    {"tls-server-address", false, "", "runs a TLS server for remote hosts"},
    {"tls-server-auth", false, "", "authorizes remote hosts of a TLS server"},
    {"tls-server-ca-file", false, "", "sets TLS of the TLS server"},
    {"tls-server-cert-file", false, "", "sets TLS of the TLS server"},
    {"tls-server-key-file", false, "", "sets TLS of the TLS server"},
    {"tls-server-port", false, "", "runs a TLS server for remote hosts"},
    {"verbose", true, "", "prints more detail in some commands' output"},
};

static_assert(std::is_sorted(std::begin(kForeignOptions), std::end(kForeignOptions),
                             [](const ForeignOption& a, const ForeignOption& b) {
                                 return a.name < b.name;
                             }),
              "kForeignOptions is searched by binary search: keep it sorted by name");

struct IndexedName {
    std::string base;  // "repo-cipher-type"; the name itself when not indexed
    int index = 0;     // 1 in repo1-cipher-type; 0 when not indexed
};

// repo1-path -> {"repo-path", 1}, pg2-host -> {"pg-host", 2}; "repo" and "pg" alone stay as they
// are.
IndexedName splitIndex(std::string_view name) {
    for (std::string_view prefix : {"repo", "pg"}) {
        if (!name.starts_with(prefix)) continue;
        size_t digits = prefix.size();
        while (digits < name.size() && std::isdigit(static_cast<unsigned char>(name[digits])))
            digits++;
        if (digits == prefix.size() || digits >= name.size() || name[digits] != '-') continue;
        std::string_view number = name.substr(prefix.size(), digits - prefix.size());
        int index = number.size() > 3 ? 1000 : std::stoi(std::string(number));
        return {std::string(prefix) + std::string(name.substr(digits)), index};
    }
    return {std::string(name), 0};
}

// y/yes/true/on/1 and their opposites compare as "y" / "n"; other values lower-cased.
std::string canonicalValue(std::string_view value) {
    std::string v;
    for (char c : value)
        v.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    if (v == "y" || v == "yes" || v == "true" || v == "on") return "y";
    if (v == "n" || v == "no" || v == "false" || v == "off") return "n";
    return v;
}

const ForeignOption* findForeign(std::string_view base) {
    auto it =
        std::lower_bound(std::begin(kForeignOptions), std::end(kForeignOptions), base,
                         [](const ForeignOption& o, std::string_view n) { return o.name < n; });
    return it != std::end(kForeignOptions) && it->name == base ? &*it : nullptr;
}

}  // namespace

bool isForeignOption(std::string_view name) {
    return findForeign(splitIndex(name).base) != nullptr;
}

bool isPgBackRestOnlyOption(std::string_view name) {
    return isForeignOption(name) || splitIndex(name).index > 1;
}

void checkForeignOption(std::string_view name, std::string_view value, std::string_view origin) {
    IndexedName indexed = splitIndex(name);
    bool repo = indexed.base.starts_with("repo");
    // repo2-4 and pg2's connection and path options are backrest's (several repositories,
    // backup-standby); their other options (repo2-host, pg2-host) are refused below as repo1's
    // and pg1's are.
    if (repo && indexed.index > kRepoMax)
        raise(
            ErrorCode::Option,
            "option '{}' ({}): backrest supports repo1 to repo{}; ignoring repo{} would leave out "
            "the backups and WAL meant for that repository. Move it to a free index of repo1 to "
            "repo{}",
            name, origin, kRepoMax, indexed.index, kRepoMax);
    if (!repo && indexed.index > 2)
        raise(ErrorCode::Option,
              "option '{}' ({}): backrest supports only pg1 and pg2 so far; ignoring pg{} would "
              "leave out the cluster it names. Remove the pg{}-… options, or keep this stanza on "
              "pgBackRest until backrest supports several",
              name, origin, indexed.index, indexed.index);
    const ForeignOption* foreign = findForeign(indexed.base);
    if (!foreign)
        raise(ErrorCode::Option,
              "unknown option '{}' ({}): neither a backrest nor a pgBackRest option; see 'backrest "
              "help'",
              name, origin);
    if (foreign->harmless) {
        logWarn("ignoring pgBackRest option '{}' ({}): backrest does not implement it; it only {}",
                name, origin, foreign->effect);
        return;
    }
    if (!foreign->sameAsBackrest.empty() && canonicalValue(value) == foreign->sameAsBackrest)
        return;
    raise(ErrorCode::Option,
          "option '{}' ({}) is a pgBackRest option backrest does not support yet: it {}. backrest "
          "refuses to run "
          "rather than ignore it; remove it{} only if that is what you want",
          name, origin, foreign->effect,
          foreign->sameAsBackrest.empty()
              ? ""
              : fmt::format(" or set it to '{}'", foreign->sameAsBackrest));
}

}  // namespace backrest
