// The option table: every option backrest accepts, with pgBackRest's names, types, defaults,
// allowed values, ranges and the one-line help shown by `backrest help`.
#include <algorithm>

#include "common/config.h"

namespace backrest {

namespace {

using T = OptionType;

// Built once on first use and never modified: the only process-wide state in this module.
std::vector<OptionDef> buildOptionDefs() {
    return {
        {.name = "config",
         .type = T::Path,
         .defaultValue = "/etc/backrest/backrest.conf",
         .help = "Config file to read; a missing default file is ignored, a missing given one "
                 "is an error."},
        {.name = "stanza",
         .type = T::String,
         .help = "Name of the PostgreSQL cluster to work on; picks its [stanza] config section "
                 "and its place in the repository."},
        {.name = "pg1-path",
         .type = T::Path,
         .help = "Data directory of the PostgreSQL cluster (PGDATA)."},
        {.name = "pg1-port",
         .type = T::Integer,
         .defaultValue = "5432",
         .help = "Port PostgreSQL listens on.",
         .minValue = 1,
         .maxValue = 65535},
        {.name = "pg1-socket-path",
         .type = T::Path,
         .help = "Directory holding PostgreSQL's Unix socket, when not libpq's default."},
        {.name = "pg1-user",
         .type = T::String,
         .help = "Database user to connect as (superuser or one allowed to run backups); "
                 "default is the operating system user."},
        {.name = "pg1-database",
         .type = T::String,
         .defaultValue = "postgres",
         .help = "Database to connect to for backup start/stop and cluster checks."},
        {.name = "repo1-path",
         .type = T::Path,
         .defaultValue = "/var/lib/backrest",
         .help = "Directory of the backup repository, holding backups and archived WAL."},
        // Encryption (doc/repository-format.md, "Encryption"): the passphrase unwraps the
        // repository key kept in backup.info and archive.info; both passphrases are secrets.
        {.name = "repo1-cipher-type",
         .type = T::String,
         .defaultValue = "none",
         .allowed = "none aes-256-gcm",
         .help = "Encryption of the repository: none, or aes-256-gcm (authenticated; set at "
                 "stanza-create, the same for every later command)."},
        {.name = "repo1-cipher-pass",
         .type = T::String,
         .help = "Passphrase of an encrypted repository: a secret, set in the config file (not "
                 "readable by others) or in BACKREST_REPO1_CIPHER_PASS (refused on the command "
                 "line).",
         .secret = true},
        {.name = "repo1-cipher-pass-new",
         .type = T::String,
         .help = "stanza-rekey: the new passphrase; a secret, as repo1-cipher-pass "
                 "(BACKREST_REPO1_CIPHER_PASS_NEW or the config file).",
         .secret = true},
        {.name = "repo1-type",
         .type = T::String,
         .defaultValue = "posix",
         .allowed = "posix s3 azure sftp",
         .help = "Storage type of the repository: a local or mounted filesystem (posix), an S3 "
                 "bucket (s3, repo1-s3-*), Azure Blob Storage (azure, repo1-azure-*), or a "
                 "directory of an SSH server (sftp, repo1-sftp-*)."},
        // SFTP (repo1-type=sftp): pgBackRest 2.46's names and defaults.
        {.name = "repo1-sftp-host",
         .type = T::String,
         .help = "SFTP server of the repository (repo1-type=sftp)."},
        {.name = "repo1-sftp-host-port",
         .type = T::Integer,
         .defaultValue = "22",
         .help = "Port of the SFTP server.",
         .minValue = 1,
         .maxValue = 65535},
        {.name = "repo1-sftp-host-user",
         .type = T::String,
         .help = "User to log in as on the SFTP server."},
        {.name = "repo1-sftp-private-key-file",
         .type = T::Path,
         .help = "Private key to log in with (key authentication only)."},
        {.name = "repo1-sftp-public-key-file",
         .type = T::Path,
         .help =
             "Public half of repo1-sftp-private-key-file; default: derived from the private key."},
        {.name = "repo1-sftp-private-key-passphrase",
         .type = T::String,
         .help = "Passphrase of the private key: a secret, set in the config file or in "
                 "BACKREST_REPO1_SFTP_PRIVATE_KEY_PASSPHRASE (refused on the command line)."},
        {.name = "repo1-sftp-known-host",
         .type = T::Path,
         .help = "Known hosts file(s) holding the server's host key; default: ~/.ssh/known_hosts, "
                 "~/.ssh/known_hosts2, /etc/ssh/ssh_known_hosts, /etc/ssh/ssh_known_hosts2.",
         .multi = true},
        {.name = "repo1-sftp-host-key-check-type",
         .type = T::String,
         .defaultValue = "strict",
         .allowed = "strict accept-new fingerprint none",
         .help =
             "How the server's host key is checked: strict (in the known hosts files), accept-new "
             "(added when unknown, refused when changed), fingerprint "
             "(repo1-sftp-host-fingerprint), none."},
        {.name = "repo1-sftp-host-fingerprint",
         .type = T::String,
         .help = "Expected fingerprint (hex) of the server's host key, with "
                 "repo1-sftp-host-key-check-type=fingerprint."},
        {.name = "repo1-sftp-host-key-hash-type",
         .type = T::String,
         .allowed = "md5 sha1 sha256",
         .help = "Hash of repo1-sftp-host-fingerprint: md5, sha1 or sha256."},
        // Azure Blob Storage (repo1-type=azure). The key is a secret: give it in the config file
        // (mode 0600) or as BACKREST_REPO1_AZURE_KEY, never on the
        // command line, where `ps` shows it.
        {.name = "repo1-azure-account",
         .type = T::String,
         .help = "Azure storage account of the repository (repo1-type=azure)."},
        {.name = "repo1-azure-container",
         .type = T::String,
         .help = "Azure container holding the repository (repo1-type=azure); it must exist."},
        {.name = "repo1-azure-key",
         .type = T::String,
         .help = "Azure account key (repo1-azure-key-type=shared) or SAS token (sas). A secret: "
                 "set it in the config file or the environment, not on the command line."},
        {.name = "repo1-azure-key-type",
         .type = T::String,
         .defaultValue = "shared",
         .allowed = "shared sas",
         .help = "What repo1-azure-key is: the account's shared key, or a shared access "
                 "signature (sas)."},
        {.name = "repo1-azure-endpoint",
         .type = T::String,
         .defaultValue = "blob.core.windows.net",
         .help = "Azure endpoint; the host is <account>.<endpoint> unless repo1-storage-host "
                 "is set."},
        {.name = "repo1-azure-uri-style",
         .type = T::String,
         .defaultValue = "host",
         .allowed = "host path",
         .help = "Where the account goes in URLs: the host name (host), or the path's first "
                 "part (path, as Azurite wants)."},
        // ---- S3 (repo1-type=s3), as pgBackRest names them ----
        {.name = "repo1-s3-bucket", .type = T::String, .help = "S3 bucket holding the repository."},
        {.name = "repo1-s3-endpoint",
         .type = T::String,
         .help = "S3 endpoint host name (s3.<region>.amazonaws.com, or a compatible server's)."},
        {.name = "repo1-s3-region",
         .type = T::String,
         .defaultValue = "us-east-1",
         .help = "S3 region the requests are signed for."},
        {.name = "repo1-s3-key",
         .type = T::String,
         .help = "S3 access key id (a secret: config file or BACKREST_REPO1_S3_KEY, never the "
                 "command line)."},
        {.name = "repo1-s3-key-secret",
         .type = T::String,
         .help = "S3 secret access key (a secret: config file or BACKREST_REPO1_S3_KEY_SECRET, "
                 "never the command line)."},
        {.name = "repo1-s3-token",
         .type = T::String,
         .help = "S3 session token of temporary credentials (a secret, as the key secret)."},
        {.name = "repo1-s3-key-type",
         .type = T::String,
         .defaultValue = "shared",
         .allowed = "shared auto web-id",
         .help = "How S3 credentials are found; only shared (repo1-s3-key and -key-secret) is "
                 "implemented."},
        {.name = "repo1-s3-uri-style",
         .type = T::String,
         .defaultValue = "host",
         .allowed = "host path",
         .help = "host: https://<bucket>.<endpoint>/<key>; path: https://<endpoint>/<bucket>/<key> "
                 "(most S3-compatible servers)."},
        // Object stores (repo1-type=s3, azure).
        {.name = "repo1-storage-host",
         .type = T::String,
         .help = "Host to connect to instead of the endpoint (requests still name the endpoint)."},
        {.name = "repo1-storage-port",
         .type = T::Integer,
         .defaultValue = "443",
         .help = "TCP port of the object store (HTTPS).",
         .minValue = 1,
         .maxValue = 65535},
        {.name = "repo1-storage-verify-tls",
         .type = T::Boolean,
         .defaultValue = "y",
         .help = "Verify the object store's TLS certificate and host name (n: for a test "
                 "server only)."},
        {.name = "repo1-storage-ca-file",
         .type = T::Path,
         .help = "CA certificate file (PEM) that signs the object store's certificate."},
        {.name = "repo1-storage-ca-path",
         .type = T::Path,
         .help = "Directory of CA certificates for the object store's certificate."},
        {.name = "repo1-storage-upload-chunk-size",
         .type = T::Size,
         .help = "Part size of a large file uploaded to an object store, a few parts at once; "
                 "default: 8 MiB for S3 (at least 5 MiB, S3's smallest part), 4 MiB for Azure "
                 "(blocks).",
         .minValue = 64 << 10,
         .maxValue = 1ll << 30},
        {.name = "process-max",
         .type = T::Integer,
         .defaultValue = "1",
         .help = "Number of parallel processes that copy, compress and checksum files.",
         .minValue = 1,
         .maxValue = 999},
        {.name = "compress-type",
         .type = T::String,
         .defaultValue = "zst",
         .allowed = "none zst",
         .help = "Compression of files stored in the repository: zst, or none."},
        {.name = "compress-level",
         .type = T::Integer,
         .defaultValue = "3",
         .help = "Compression level: higher is smaller but slower (zstd: -7 fastest to 22).",
         .minValue = -7,
         .maxValue = 22},
        {.name = "checksum-type",
         .type = T::String,
         .defaultValue = "xxh3",
         .allowed = "xxh3 sha256",
         .help =
             "Checksum recorded for each backed-up file and rechecked on restore and verify: xxh3 "
             "(XXH3-128, fast) or sha256 (a cryptographic digest, several times the CPU)."},
        {.name = "buffer-size",
         .type = T::Integer,
         .defaultValue = "1048576",
         .help = "Size in bytes of the buffers used to read, compress and write files.",
         .minValue = 1},
        {.name = "start-fast",
         .type = T::Boolean,
         .defaultValue = "n",
         .help = "Request an immediate checkpoint so the backup starts now rather than at the "
                 "next scheduled checkpoint."},
        {.name = "archive-timeout",
         .type = T::Integer,
         .defaultValue = "60",
         .help = "Seconds to wait for the WAL a backup needs to reach the archive before "
                 "failing.",
         .minValue = 1,
         .maxValue = 86400},
        {.name = "archive-check",
         .type = T::Boolean,
         .defaultValue = "y",
         .help = "Before calling a backup done, check that the WAL needed to make it consistent "
                 "is in the archive."},
        {.name = "type",
         .type = T::String,
         .allowed = "full diff incr default immediate time xid lsn name none preserve standby",
         .help = "Backup type (full, diff, incr), or for restore the kind of recovery target "
                 "(default, immediate, time, xid, lsn, name, none, preserve, standby)."},
        {.name = "target",
         .type = T::String,
         .help = "Recovery target for restore, as chosen by --type: a timestamp "
                 "(YYYY-MM-DD HH:MM:SS[.ffffff][+/-HH[:MM]], Z or UTC; without a zone, the "
                 "restoring host's time zone, whose offset is written with it), an xid, an LSN "
                 "(X/X) or a restore point name (at most 63 bytes)."},
        {.name = "target-action",
         .type = T::String,
         .defaultValue = "pause",
         .allowed = "pause promote shutdown",
         .help = "What PostgreSQL does on reaching the recovery target: pause, promote or "
                 "shutdown."},
        {.name = "target-timeline",
         .type = T::String,
         .help = "Timeline to follow during recovery: 'current', 'latest' or a timeline id "
                 "(decimal, or hexadecimal with 0x; no leading zero, which PostgreSQL would "
                 "read as octal)."},
        {.name = "archive-mode",
         .type = T::String,
         .defaultValue = "preserve",
         .allowed = "off preserve",
         .help = "restore: preserve keeps the backup's archive_mode; off writes archive_mode = "
                 "'off' into the restored postgresql.auto.conf, so a copy (a drill, a test) "
                 "never archives into the stanza."},
        {.name = "target-exclusive",
         .type = T::Boolean,
         .defaultValue = "n",
         .help = "Stop recovery just before the target instead of just after it."},
        {.name = "set",
         .type = T::String,
         .help = "Backup (by label) to restore instead of the latest one (with a time or LSN "
                 "target: the newest that ended before it); for expire and verify, the one "
                 "backup to act on."},
        {.name = "delta",
         .type = T::Boolean,
         .defaultValue = "n",
         .help = "Restore over an existing data directory, rewriting only files whose checksum "
                 "differs from the backup."},
        {.name = "force",
         .type = T::Boolean,
         .defaultValue = "n",
         .help = "Go ahead with an operation normally refused to protect data. restore: with "
                 "--delta, keep files whose size and modification time match the backup without "
                 "reading them; with or without --delta, restore although a WAL segment is "
                 "missing from the archive after the backup (recovery then stops at the missing "
                 "segment: for a target before it). The backup's own WAL (start to stop "
                 "segment) must be archived even with --force."},
        {.name = "tablespace-map",
         .type = T::String,
         .help = "Restore one tablespace elsewhere, as name=/new/path; give once per "
                 "tablespace.",
         .multi = true},
        {.name = "tablespace-map-all",
         .type = T::Path,
         .help = "Restore every tablespace under this directory, one subdirectory per "
                 "tablespace."},
        {.name = "recovery-option",
         .type = T::String,
         .help = "Extra setting for the restored cluster's recovery configuration, as "
                 "key=value; give once per setting.",
         .multi = true},
        {.name = "log-level-console",
         .type = T::String,
         .defaultValue = "warn",
         .allowed = "off error warn info detail debug trace",
         .help = "How much to print on the console: off, error, warn, info, detail, debug or "
                 "trace."},
        {.name = "output",
         .type = T::String,
         .defaultValue = "text",
         .allowed = "text json",
         .help =
             "Format of info and verify output: text for people, json for scripts and monitoring."},
        {.name = "socket-path",
         .type = T::Path,
         .help = "Directory (mode 0700) where 'backrest serve' listens on backrest.sock for the "
                 "extension; set by the extension's launcher."},
        {.name = "archive-async",
         .type = T::Boolean,
         .defaultValue = "n",
         .help = "serve: push WAL segments ahead of the archiver, up to process-max at once, as "
                 "soon as PostgreSQL marks them ready."},
        {.name = "lock-path",
         .type = T::Path,
         .defaultValue = "/tmp/backrest",
         .help = "Directory of the lock files that stop two commands working on one stanza "
                 "at once."},
        {.name = "spool-path",
         .type = T::Path,
         .defaultValue = "/var/spool/backrest",
         .help = "Local directory where the daemon's WAL stream gathers a segment before storing "
                 "it in the repository whole (an object store has no rename)."},
        {.name = "db-timeout",
         .type = T::Integer,
         .defaultValue = "1800",
         .help = "Seconds to wait for a database query, such as backup start or stop, before "
                 "giving up.",
         .minValue = 1},
        {.name = "repo1-block",
         .type = T::Boolean,
         .defaultValue = "n",
         .help = "Store files of 64 KiB and more as blocks: an incremental or differential backup "
                 "then stores only the changed blocks (8 KiB: a page of a relation file) of a "
                 "changed file instead of the whole file."},
        {.name = "repo1-bundle",
         .type = T::Boolean,
         .defaultValue = "y",
         .help = "Store small files (up to repo1-bundle-limit) together in bundle files of up to "
                 "repo1-bundle-size instead of one repository file each: a data directory's "
                 "hundreds of small files cost one create, fsync and rename per bundle."},
        {.name = "repo1-bundle-size",
         .type = T::Size,
         .defaultValue = "8MiB",
         .help = "Original bytes stored in one bundle at most (repo1-bundle).",
         .minValue = 1 << 20,
         .maxValue = 1ll << 30},
        {.name = "repo1-bundle-limit",
         .type = T::Size,
         .defaultValue = "2MiB",
         .help = "Files of at most this size are bundled (repo1-bundle); it cannot exceed "
                 "repo1-bundle-size.",
         .minValue = 8 << 10,
         .maxValue = 1ll << 30},
        {.name = "repo1-retention-full",
         .type = T::Integer,
         .help = "Number of full backups to keep; older full backups, and the backups and WAL "
                 "that depend only on them, are expired.",
         .minValue = 1},
        {.name = "repo1-retention-diff",
         .type = T::Integer,
         .help = "Number of differential backups to keep; older ones are expired.",
         .minValue = 1},
        {.name = "repo1-retention-archive",
         .type = T::Integer,
         .help = "Number of backups (of repo1-retention-archive-type) whose WAL is kept for "
                 "point-in-time recovery; default: as many as repo1-retention-full.",
         .minValue = 1},
        {.name = "repo1-retention-archive-type",
         .type = T::String,
         .defaultValue = "full",
         .allowed = "full diff incr",
         .help = "Which backups repo1-retention-archive counts."},
        {.name = "dry-run",
         .type = T::Boolean,
         .defaultValue = "n",
         .help = "expire: print what would be removed, remove nothing."},
    };
}

}  // namespace

const std::vector<OptionDef>& optionDefs() {
    static const std::vector<OptionDef> defs = buildOptionDefs();
    return defs;
}

const OptionDef* findOptionDef(std::string_view name) {
    // About thirty options: a linear scan is as fast as a map and needs no second structure.
    const auto& defs = optionDefs();
    auto it = std::find_if(defs.begin(), defs.end(),
                           [name](const OptionDef& def) { return def.name == name; });
    return it == defs.end() ? nullptr : &*it;
}

}  // namespace backrest
