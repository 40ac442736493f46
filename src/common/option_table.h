// The one list of the options backrest accepts: pgBackRest's names, types, defaults, allowed
// values, ranges, secrecy, the commands whose help lists them, and the one-line help. options.cpp
// builds the parser's table from it and option_keys.h a typed key per option (opt::processMax),
// so an option is added here and nowhere else.
//
// X(key, type, "name", designated initializers of OptionDef after .type, in its order). Inside the
// macro a comment must be a block comment: a line comment would swallow the line's backslash.
#pragma once

#define BACKREST_OPTION_TABLE(X)                                                                   \
    X(config, Path, "config", .defaultValue = "/etc/backrest/backrest.conf",                       \
      .help =                                                                                      \
          "Config file to read; a missing default file is ignored, a missing given one is an "     \
          "error.")                                                                                \
    X(stanza, String, "stanza",                                                                    \
      .help =                                                                                      \
          "Name of the PostgreSQL cluster to work on; picks its [stanza] config section and its "  \
          "place in the repository.",                                                              \
      .commands =                                                                                  \
          "stanza-create stanza-rekey check backup restore archive-push archive-get info serve "   \
          "expire verify annotate repo-ls repo-get stop start stanza-delete stanza-upgrade "       \
          "metrics")                                                                               \
    X(pg1Path, Path, "pg1-path", .help = "Data directory of the PostgreSQL cluster (PGDATA).",     \
      .commands =                                                                                  \
          "stanza-create check backup restore archive-push serve stanza-delete stanza-upgrade "    \
          "metrics")                                                                               \
    X(pg1Port, Integer, "pg1-port", .defaultValue = "5432", .help = "Port PostgreSQL listens on.", \
      .minValue = 1, .maxValue = 65535, .commands = "check backup metrics")                        \
    X(pg1SocketPath, Path, "pg1-socket-path",                                                      \
      .help = "Directory holding PostgreSQL's Unix socket, when not libpq's default.",             \
      .commands = "check backup metrics")                                                          \
    X(pg1User, String, "pg1-user",                                                                 \
      .help =                                                                                      \
          "Database user to connect as (superuser or one allowed to run backups); default is the " \
          "operating system user.",                                                                \
      .commands = "check backup")                                                                  \
    X(pg1Database, String, "pg1-database", .defaultValue = "postgres",                             \
      .help = "Database to connect to for backup start/stop and cluster checks.")                  \
    /* Backup from a standby (backup-standby): pg2 is the other server of the same cluster. The    \
     * primary may be pg1 or pg2; backrest asks each which it is. */                               \
    X(backupStandby, String, "backup-standby", .defaultValue = "n", .allowed = "n y prefer",       \
      .help =                                                                                      \
          "Copy the data files from the standby (pg1 or pg2, whichever is in recovery) once it "   \
          "has replayed to the backup's start; start and stop the backup on the primary. y: the "  \
          "standby must be usable; prefer: back up from the primary, with a warning, when not.",   \
      .commands = "backup")                                                                        \
    X(pg2Path, Path, "pg2-path",                                                                   \
      .help = "Data directory of the second server of the cluster (a standby or the primary).",    \
      .commands = "backup")                                                                        \
    X(pg2Port, Integer, "pg2-port", .defaultValue = "5432",                                        \
      .help = "Port the second server listens on.", .minValue = 1, .maxValue = 65535,              \
      .commands = "backup")                                                                        \
    X(pg2SocketPath, Path, "pg2-socket-path",                                                      \
      .help = "Directory holding the second server's Unix socket, when not libpq's default.",      \
      .commands = "backup")                                                                        \
    X(pg2User, String, "pg2-user",                                                                 \
      .help = "Database user to connect to the second server as; default: the OS user.",           \
      .commands = "backup")                                                                        \
    X(pg2Database, String, "pg2-database", .defaultValue = "postgres",                             \
      .help = "Database to connect to on the second server.")                                      \
    X(repo1Path, Path, "repo1-path", .defaultValue = "/var/lib/backrest",                          \
      .help = "Directory of the backup repository, holding backups and archived WAL.",             \
      .commands =                                                                                  \
          "stanza-create stanza-rekey check backup restore archive-push archive-get info serve "   \
          "expire verify annotate repo-ls repo-get stanza-delete stanza-upgrade metrics")          \
    /* Encryption (doc/repository-format.md, "Encryption"): the passphrase unwraps the repository  \
     * key kept in backup.info and archive.info; both passphrases are secrets. */                  \
    X(repo1CipherType, String, "repo1-cipher-type", .defaultValue = "none",                        \
      .allowed = "none aes-256-gcm",                                                               \
      .help =                                                                                      \
          "Encryption of the repository: none, or aes-256-gcm (authenticated; set at "             \
          "stanza-create, the same for every later command).",                                     \
      .commands = "stanza-rekey")                                                                  \
    X(repo1CipherPass, String, "repo1-cipher-pass",                                                \
      .help =                                                                                      \
          "Passphrase of an encrypted repository: a secret, set in the config file (not readable " \
          "by others) or in BACKREST_REPO1_CIPHER_PASS (refused on the command line).",            \
      .secret = true, .commands = "stanza-rekey")                                                  \
    X(repo1CipherPassNew, String, "repo1-cipher-pass-new",                                         \
      .help =                                                                                      \
          "stanza-rekey: the new passphrase; a secret, as repo1-cipher-pass "                      \
          "(BACKREST_REPO1_CIPHER_PASS_NEW or the config file).",                                  \
      .secret = true, .commands = "stanza-rekey")                                                  \
    X(repo1Type, String, "repo1-type", .defaultValue = "posix", .allowed = "posix s3 azure sftp",  \
      .help =                                                                                      \
          "Storage type of the repository: a local or mounted filesystem (posix), an S3 bucket "   \
          "(s3, repo1-s3-*), Azure Blob Storage (azure, repo1-azure-*), or a directory of an SSH " \
          "server (sftp, repo1-sftp-*).")                                                          \
    /* SFTP (repo1-type=sftp): pgBackRest 2.46's names and defaults. */                            \
    X(repo1SftpHost, String, "repo1-sftp-host",                                                    \
      .help = "SFTP server of the repository (repo1-type=sftp).")                                  \
    X(repo1SftpHostPort, Integer, "repo1-sftp-host-port", .defaultValue = "22",                    \
      .help = "Port of the SFTP server.", .minValue = 1, .maxValue = 65535)                        \
    X(repo1SftpHostUser, String, "repo1-sftp-host-user",                                           \
      .help = "User to log in as on the SFTP server.")                                             \
    X(repo1SftpPrivateKeyFile, Path, "repo1-sftp-private-key-file",                                \
      .help = "Private key to log in with (key authentication only).")                             \
    X(repo1SftpPublicKeyFile, Path, "repo1-sftp-public-key-file",                                  \
      .help =                                                                                      \
          "Public half of repo1-sftp-private-key-file; default: derived from the private key.")    \
    X(repo1SftpPrivateKeyPassphrase, String, "repo1-sftp-private-key-passphrase",                  \
      .help =                                                                                      \
          "Passphrase of the private key: a secret, set in the config file or in "                 \
          "BACKREST_REPO1_SFTP_PRIVATE_KEY_PASSPHRASE (refused on the command line).",             \
      .secret = true)                                                                              \
    X(repo1SftpKnownHost, Path, "repo1-sftp-known-host",                                           \
      .help =                                                                                      \
          "Known hosts file(s) holding the server's host key; default: ~/.ssh/known_hosts, "       \
          "~/.ssh/known_hosts2, /etc/ssh/ssh_known_hosts, /etc/ssh/ssh_known_hosts2.",             \
      .multi = true)                                                                               \
    X(repo1SftpHostKeyCheckType, String, "repo1-sftp-host-key-check-type",                         \
      .defaultValue = "strict", .allowed = "strict accept-new fingerprint none",                   \
      .help =                                                                                      \
          "How the server's host key is checked: strict (in the known hosts files), accept-new "   \
          "(added when unknown, refused when changed), fingerprint "                               \
          "(repo1-sftp-host-fingerprint), none.")                                                  \
    X(repo1SftpHostFingerprint, String, "repo1-sftp-host-fingerprint",                             \
      .help =                                                                                      \
          "Expected fingerprint (hex) of the server's host key, with "                             \
          "repo1-sftp-host-key-check-type=fingerprint.")                                           \
    X(repo1SftpHostKeyHashType, String, "repo1-sftp-host-key-hash-type",                           \
      .allowed = "md5 sha1 sha256",                                                                \
      .help = "Hash of repo1-sftp-host-fingerprint: md5, sha1 or sha256.")                         \
    /* Azure Blob Storage (repo1-type=azure). The key is a secret: give it in the config file      \
     * (mode 0600) or as BACKREST_REPO1_AZURE_KEY, never on the command line, where `ps` shows it. \
     */                                                                                            \
    X(repo1AzureAccount, String, "repo1-azure-account",                                            \
      .help = "Azure storage account of the repository (repo1-type=azure).")                       \
    X(repo1AzureContainer, String, "repo1-azure-container",                                        \
      .help = "Azure container holding the repository (repo1-type=azure); it must exist.")         \
    X(repo1AzureKey, String, "repo1-azure-key",                                                    \
      .help =                                                                                      \
          "Azure account key (repo1-azure-key-type=shared) or SAS token (sas). A secret: set it "  \
          "in the config file or the environment, not on the command line.",                       \
      .secret = true)                                                                              \
    X(repo1AzureKeyType, String, "repo1-azure-key-type", .defaultValue = "shared",                 \
      .allowed = "shared sas",                                                                     \
      .help =                                                                                      \
          "What repo1-azure-key is: the account's shared key, or a shared access signature "       \
          "(sas).")                                                                                \
    X(repo1AzureEndpoint, String, "repo1-azure-endpoint", .defaultValue = "blob.core.windows.net", \
      .help =                                                                                      \
          "Azure endpoint; the host is <account>.<endpoint> unless repo1-storage-host is set.")    \
    X(repo1AzureUriStyle, String, "repo1-azure-uri-style", .defaultValue = "host",                 \
      .allowed = "host path",                                                                      \
      .help =                                                                                      \
          "Where the account goes in URLs: the host name (host), or the path's first part (path, " \
          "as Azurite wants).")                                                                    \
    /* ---- S3 (repo1-type=s3), as pgBackRest names them ---- */                                   \
    X(repo1S3Bucket, String, "repo1-s3-bucket", .help = "S3 bucket holding the repository.")       \
    X(repo1S3Endpoint, String, "repo1-s3-endpoint",                                                \
      .help = "S3 endpoint host name (s3.<region>.amazonaws.com, or a compatible server's).")      \
    X(repo1S3Region, String, "repo1-s3-region", .defaultValue = "us-east-1",                       \
      .help = "S3 region the requests are signed for.")                                            \
    X(repo1S3Key, String, "repo1-s3-key",                                                          \
      .help =                                                                                      \
          "S3 access key id (a secret: config file or BACKREST_REPO1_S3_KEY, never the command "   \
          "line).",                                                                                \
      .secret = true)                                                                              \
    X(repo1S3KeySecret, String, "repo1-s3-key-secret",                                             \
      .help =                                                                                      \
          "S3 secret access key (a secret: config file or BACKREST_REPO1_S3_KEY_SECRET, never "    \
          "the command line).",                                                                    \
      .secret = true)                                                                              \
    X(repo1S3Token, String, "repo1-s3-token",                                                      \
      .help = "S3 session token of temporary credentials (a secret, as the key secret).",          \
      .secret = true)                                                                              \
    X(repo1S3KeyType, String, "repo1-s3-key-type", .defaultValue = "shared",                       \
      .allowed = "shared auto web-id",                                                             \
      .help =                                                                                      \
          "How S3 credentials are found; only shared (repo1-s3-key and -key-secret) is "           \
          "implemented.")                                                                          \
    X(repo1S3UriStyle, String, "repo1-s3-uri-style", .defaultValue = "host",                       \
      .allowed = "host path",                                                                      \
      .help =                                                                                      \
          "host: https://<bucket>.<endpoint>/<key>; path: https://<endpoint>/<bucket>/<key> "      \
          "(most S3-compatible servers).")                                                         \
    /* Object stores (repo1-type=s3, azure). */                                                    \
    X(repo1StorageHost, String, "repo1-storage-host",                                              \
      .help = "Host to connect to instead of the endpoint (requests still name the endpoint).")    \
    X(repo1StoragePort, Integer, "repo1-storage-port", .defaultValue = "443",                      \
      .help = "TCP port of the object store (HTTPS).", .minValue = 1, .maxValue = 65535)           \
    X(repo1StorageVerifyTls, Boolean, "repo1-storage-verify-tls", .defaultValue = "y",             \
      .help =                                                                                      \
          "Verify the object store's TLS certificate and host name (n: for a test server only).")  \
    X(repo1StorageCaFile, Path, "repo1-storage-ca-file",                                           \
      .help = "CA certificate file (PEM) that signs the object store's certificate.")              \
    X(repo1StorageCaPath, Path, "repo1-storage-ca-path",                                           \
      .help = "Directory of CA certificates for the object store's certificate.")                  \
    X(repo1StorageUploadChunkSize, Size, "repo1-storage-upload-chunk-size",                        \
      .help =                                                                                      \
          "Part size of a large file uploaded to an object store, a few parts at once; default: "  \
          "8 MiB for S3 (at least 5 MiB, S3's smallest part), 4 MiB for Azure (blocks).",          \
      .minValue = 64 << 10, .maxValue = 1ll << 30)                                                 \
    X(processMax, Integer, "process-max", .defaultValue = "1",                                     \
      .help = "Number of parallel processes that copy, compress and checksum files.",              \
      .minValue = 1, .maxValue = 999, .commands = "backup restore serve verify archive-get")       \
    X(compressType, String, "compress-type", .defaultValue = "zst", .allowed = "none zst lz4",     \
      .help =                                                                                      \
          "Compression of files stored in the repository: zst, lz4 (faster, larger), or none.",    \
      .commands = "backup archive-push serve")                                                     \
    X(compressLevel, Integer, "compress-level",                                                    \
      .help =                                                                                      \
          "Compression level: higher is smaller but slower (zst: -7 fastest to 22, default 3; "    \
          "lz4: -5 fastest to 12, default 1). At zst 2 and 3, a frame of 1 MiB or more whose "     \
          "samples compress no better than at level 1 is compressed at level 1.",                  \
      .minValue = -7, .maxValue = 22, .commands = "backup archive-push serve")                     \
    X(checksumType, String, "checksum-type", .defaultValue = "xxh3", .allowed = "xxh3 sha256",     \
      .help =                                                                                      \
          "Checksum recorded for each backed-up file and rechecked on restore and verify: xxh3 "   \
          "(XXH3-128, fast) or sha256 (a cryptographic digest, several times the CPU).",           \
      .commands = "backup serve")                                                                  \
    X(bufferSize, Size, "buffer-size", .defaultValue = "1MiB",                                     \
      .help = "Size of the buffers used to read, compress and write files (16KiB to 64MiB).",      \
      .minValue = 1, .maxValue = 64ll << 20, .commands = "verify")                                 \
    X(startFast, Boolean, "start-fast", .defaultValue = "n",                                       \
      .help =                                                                                      \
          "Request an immediate checkpoint so the backup starts now rather than at the next "      \
          "scheduled checkpoint.",                                                                 \
      .commands = "backup")                                                                        \
    X(archiveTimeout, Integer, "archive-timeout", .defaultValue = "60",                            \
      .help = "Seconds to wait for the WAL a backup needs to reach the archive before failing.",   \
      .minValue = 1, .maxValue = 86400, .commands = "check backup serve")                          \
    X(archiveCheck, Boolean, "archive-check", .defaultValue = "y",                                 \
      .help =                                                                                      \
          "Before calling a backup done, check that the WAL needed to make it consistent is in "   \
          "the archive.",                                                                          \
      .commands = "backup")                                                                        \
    X(type, String, "type",                                                                        \
      .allowed = "full diff incr default immediate time xid lsn name none preserve standby",       \
      .help =                                                                                      \
          "Backup type (full, diff, incr; for info, only the backups of that type), or for "       \
          "restore the kind of recovery target (default, immediate, time, xid, lsn, name, none, "  \
          "preserve, standby).",                                                                   \
      .commands = "backup restore drill info")                                                     \
    X(target, String, "target",                                                                    \
      .help =                                                                                      \
          "Recovery target for restore, as chosen by --type: a timestamp (YYYY-MM-DD "             \
          "HH:MM:SS[.ffffff][+/-HH[:MM]], Z or UTC; without a zone, the restoring host's time "    \
          "zone, whose offset is written with it), an xid, an LSN (X/X) or a restore point name "  \
          "(at most 63 bytes).",                                                                   \
      .commands = "restore drill")                                                                 \
    X(targetAction, String, "target-action", .defaultValue = "pause",                              \
      .allowed = "pause promote shutdown",                                                         \
      .help = "What PostgreSQL does on reaching the recovery target: pause, promote or shutdown.", \
      .commands = "restore")                                                                       \
    X(targetTimeline, String, "target-timeline",                                                   \
      .help =                                                                                      \
          "Timeline to follow during recovery: 'current', 'latest' or a timeline id (decimal, or " \
          "hexadecimal with 0x; no leading zero, which PostgreSQL would read as octal).",          \
      .commands = "restore drill")                                                                 \
    X(archiveMode, String, "archive-mode", .defaultValue = "preserve", .allowed = "off preserve",  \
      .help =                                                                                      \
          "restore: preserve keeps the backup's archive_mode; off writes archive_mode = 'off' "    \
          "into the restored postgresql.auto.conf, so a copy (a drill, a test) never archives "    \
          "into the stanza.",                                                                      \
      .commands = "restore")                                                                       \
    X(drillPath, Path, "drill-path",                                                               \
      .help =                                                                                      \
          "drill: the directory a drill restores into (as backrest-drill-<stanza>, removed when "  \
          "the drill ends); never pg1-path, a repository, or inside either. Its free space must "  \
          "hold the backup's size plus a tenth and 64 MiB.",                                       \
      .commands = "drill")                                                                         \
    X(drillPort, Integer, "drill-port", .defaultValue = "0",                                       \
      .help =                                                                                      \
          "drill: the port of the throwaway cluster (its Unix socket's name; it listens on no "    \
          "TCP address); 0 takes the first free one from 55432.",                                  \
      .minValue = 0, .maxValue = 65535, .commands = "drill")                                       \
    X(targetExclusive, Boolean, "target-exclusive", .defaultValue = "n",                           \
      .help = "Stop recovery just before the target instead of just after it.",                    \
      .commands = "restore drill")                                                                 \
    X(set, String, "set",                                                                          \
      .help =                                                                                      \
          "Backup (by label) to restore instead of the latest one (with a time or LSN target: "    \
          "the newest that ended before it); for expire and verify, the one backup to act on; "    \
          "for info, the one backup to show in detail; for annotate, the backup to annotate.",     \
      .commands = "restore drill expire verify info annotate")                                     \
    X(annotation, String, "annotation",                                                            \
      .help =                                                                                      \
          "key=value note kept with a backup and shown by info (repeatable): given to backup, "    \
          "stored with the new backup; to annotate, added or changed, and removed when the value " \
          "is empty.",                                                                             \
      .multi = true, .commands = "backup annotate")                                                \
    X(delta, Boolean, "delta", .defaultValue = "n",                                                \
      .help =                                                                                      \
          "Restore over an existing data directory, rewriting only files whose checksum differs "  \
          "from the backup.",                                                                      \
      .commands = "restore")                                                                       \
    X(force, Boolean, "force", .defaultValue = "n",                                                \
      .help =                                                                                      \
          "Go ahead with an operation normally refused to protect data. restore: with --delta, "   \
          "keep files whose size and modification time match the backup without reading them; "    \
          "with or without --delta, restore although a WAL segment is missing from the archive "   \
          "after the backup (recovery then stops at the missing segment: for a target before "     \
          "it). The backup's own WAL (start to stop segment) must be archived even with --force.", \
      .commands = "restore stop stanza-delete")                                                    \
    X(tablespaceMap, String, "tablespace-map",                                                     \
      .help = "Restore one tablespace elsewhere, as name=/new/path; give once per tablespace.",    \
      .multi = true, .commands = "restore")                                                        \
    X(tablespaceMapAll, Path, "tablespace-map-all",                                                \
      .help = "Restore every tablespace under this directory, one subdirectory per tablespace.",   \
      .commands = "restore")                                                                       \
    X(recoveryOption, String, "recovery-option",                                                   \
      .help =                                                                                      \
          "Extra setting for the restored cluster's recovery configuration, as key=value; give "   \
          "once per setting.",                                                                     \
      .multi = true, .commands = "restore")                                                        \
    X(logLevelConsole, String, "log-level-console", .defaultValue = "warn",                        \
      .allowed = "off error warn info detail debug trace",                                         \
      .help = "How much to print on the console: off, error, warn, info, detail, debug or trace.") \
    /* ---- Carried over from pgBackRest (issue 20): conf.d and log files. config-include-path,    \
     * like config, is read only from the command line or the environment. ---- */                 \
    X(configIncludePath, Path, "config-include-path", .defaultValue = "/etc/backrest/conf.d",      \
      .help =                                                                                      \
          "Directory whose *.conf files are read after the config file, in name order, as one "    \
          "file (an option set twice in one section is an error); a missing default directory is " \
          "ignored, and a given --config alone reads no include directory.")                       \
    X(logPath, Path, "log-path",                                                                   \
      .help =                                                                                      \
          "Directory of the log files, one per stanza and command (<stanza>-<command>.log, "       \
          "all-<command>.log without a stanza), appended to; no log file is written when unset.")  \
    X(logLevelFile, String, "log-level-file", .defaultValue = "info",                              \
      .allowed = "off error warn info detail debug trace",                                         \
      .help =                                                                                      \
          "How much to write to the log file in log-path: off, error, warn, info, detail, debug "  \
          "or trace.")                                                                             \
    X(output, String, "output", .defaultValue = "text", .allowed = "text json num",                \
      .help =                                                                                      \
          "Format of info and verify output: text for people, json for scripts and monitoring "    \
          "(version: num prints the version as one number, as pgBackRest's 2045000 for 2.45).",    \
      .commands = "info verify repo-ls version")                                                   \
    /* issue 20: check_pgbackrest and other monitoring written for pgBackRest parse `version` and  \
     * refuse a release below theirs; this changes only the version line. */                       \
    X(versionFormat, String, "version-format", .defaultValue = "backrest",                         \
      .allowed = "backrest pgbackrest",                                                            \
      .help =                                                                                      \
          "How version names the release: backrest (backrest 0.1.0), or pgbackrest (pgBackRest "   \
          "2.45, the pgBackRest release whose commands, options and info JSON backrest "           \
          "implements) for monitoring that gates on pgBackRest's version, such as "                \
          "check_pgbackrest; nothing else changes.",                                               \
      .commands = "version")                                                                       \
    X(socketPath, Path, "socket-path",                                                             \
      .help =                                                                                      \
          "Directory (mode 0700) where 'backrest serve' listens on backrest.sock for the "         \
          "extension; set by the extension's launcher. metrics: where to ask the daemon "          \
          "(default <pg1-socket-path>/backrest.<pg1-port>, the extension's).",                     \
      .commands = "serve metrics")                                                                 \
    X(metricsListen, String, "metrics-listen",                                                     \
      .help =                                                                                      \
          "serve: answer GET /metrics over HTTP (Prometheus text format) at host:port, or at a "   \
          "port alone on 127.0.0.1; unset (the default): no endpoint.",                            \
      .commands = "serve")                                                                         \
    X(archiveAsync, Boolean, "archive-async", .defaultValue = "n",                                 \
      .help =                                                                                      \
          "serve: push WAL segments ahead of the archiver, up to process-max at once, as soon as " \
          "PostgreSQL marks them ready; archive-get: fetch the segments after the one asked for "  \
          "into spool-path in the background, verified, while PostgreSQL replays.",                \
      .commands = "serve archive-get")                                                             \
    X(archiveGetQueueMax, Size, "archive-get-queue-max", .defaultValue = "128MiB",                 \
      .help =                                                                                      \
          "archive-get with archive-async: the most WAL, in bytes, fetched ahead of recovery "     \
          "into spool-path (at least one segment).",                                               \
      .minValue = 0, .maxValue = 4ll << 40, .commands = "archive-get")                             \
    X(archivePushQueueMax, Size, "archive-push-queue-max",                                         \
      .help =                                                                                      \
          "Most WAL (ready segments x segment size) left waiting in pg_wal: past it, "             \
          "archive-push "                                                                          \
          "and serve report each next segment archived without storing it, with an ERROR, so "     \
          "pg_wal never fills; recovery cannot cross the gap until a new backup (info, check). "   \
          "Unset: never drop.",                                                                    \
      .minValue = 0, .maxValue = 1ll << 50, .commands = "archive-push serve")                      \
    X(lockPath, Path, "lock-path", .defaultValue = "/tmp/backrest",                                \
      .help = "Directory of the lock files that stop two commands working on one stanza at once.", \
      .commands =                                                                                  \
          "stanza-rekey backup restore serve expire verify annotate stop start stanza-delete "     \
          "stanza-upgrade")                                                                        \
    X(spoolPath, Path, "spool-path", .defaultValue = "/var/spool/backrest",                        \
      .help =                                                                                      \
          "Local directory where the daemon's WAL stream gathers a segment before storing it in "  \
          "the repository whole (an object store has no rename), and where archive-get with "      \
          "archive-async keeps the segments it fetched ahead (archive/<stanza>/in).",              \
      .commands = "serve archive-get")                                                             \
    X(dbTimeout, Integer, "db-timeout", .defaultValue = "1800",                                    \
      .help =                                                                                      \
          "Seconds to wait for a database query, such as backup start or stop, before giving up.", \
      .minValue = 1)                                                                               \
    X(repo1Block, Boolean, "repo1-block", .defaultValue = "n",                                     \
      .help =                                                                                      \
          "Store files of 64 KiB and more as blocks: an incremental or differential backup then "  \
          "stores only the changed blocks (8 KiB: a page of a relation file) of a changed file "   \
          "instead of the whole file.",                                                            \
      .commands = "backup")                                                                        \
    X(repo1Bundle, Boolean, "repo1-bundle", .defaultValue = "y",                                   \
      .help =                                                                                      \
          "Store small files (up to repo1-bundle-limit) together in bundle files of up to "        \
          "repo1-bundle-size instead of one repository file each: a data directory's hundreds of " \
          "small files cost one create, fsync and rename per bundle.",                             \
      .commands = "backup")                                                                        \
    X(repo1BundleSize, Size, "repo1-bundle-size", .defaultValue = "8MiB",                          \
      .help = "Original bytes stored in one bundle at most (repo1-bundle).", .minValue = 1 << 20,  \
      .maxValue = 1ll << 30, .commands = "backup")                                                 \
    X(repo1BundleLimit, Size, "repo1-bundle-limit", .defaultValue = "2MiB",                        \
      .help =                                                                                      \
          "Files of at most this size are bundled (repo1-bundle); it cannot exceed "               \
          "repo1-bundle-size.",                                                                    \
      .minValue = 8 << 10, .maxValue = 1ll << 30, .commands = "backup")                            \
    X(repo1RetentionFull, Integer, "repo1-retention-full",                                         \
      .help =                                                                                      \
          "Full backups to keep: a number, or days with repo1-retention-full-type=time; older "    \
          "full backups, and the backups and WAL that depend only on them, are expired.",          \
      .minValue = 1, .maxValue = 9999999, .commands = "backup expire")                             \
    X(repo1RetentionFullType, String, "repo1-retention-full-type", .defaultValue = "count",        \
      .allowed = "count time",                                                                     \
      .help =                                                                                      \
          "count: repo1-retention-full is a number of full backups; time: days. A full backup "    \
          "expires only when a newer full backup is itself older than the period, so a "           \
          "point-in-time recovery to any moment of those days stays possible.",                    \
      .commands = "backup expire")                                                                 \
    X(repo1RetentionDiff, Integer, "repo1-retention-diff",                                         \
      .help = "Number of differential backups to keep; older ones are expired.", .minValue = 1,    \
      .commands = "backup expire")                                                                 \
    X(repo1RetentionHistory, Integer, "repo1-retention-history",                                   \
      .help =                                                                                      \
          "Days to keep the backup history (backup.history/: a copy of each backup's manifest) "   \
          "of expired backups; unset, it is kept forever; 0: only while the backup exists. A "     \
          "diff/incr goes with its full backup.",                                                  \
      .minValue = 0, .maxValue = 9999999, .commands = "backup expire")                             \
    X(repo1RetentionArchive, Integer, "repo1-retention-archive",                                   \
      .help =                                                                                      \
          "Number of backups (of repo1-retention-archive-type) whose WAL is kept for "             \
          "point-in-time recovery; default: as many as repo1-retention-full.",                     \
      .minValue = 1, .commands = "expire")                                                         \
    X(repo1RetentionArchiveType, String, "repo1-retention-archive-type", .defaultValue = "full",   \
      .allowed = "full diff incr", .help = "Which backups repo1-retention-archive counts.",        \
      .commands = "expire")                                                                        \
    X(dryRun, Boolean, "dry-run", .defaultValue = "n",                                             \
      .help = "expire: print what would be removed, remove nothing.", .commands = "expire")        \
    /* ---- repo-ls, repo-get (pgBackRest 2.45's names): read the repository as it is stored ----  \
     */                                                                                            \
    X(repo, String, "repo", .allowed = "1 2 3 4 all",                                              \
      .help =                                                                                      \
          "Repository to work on (1 to 4, one with repo<N>-* options set), or for backup `all`: "  \
          "one run into every configured repository, each data file read once. Without it: "       \
          "backup, annotate, repo-ls, repo-get and stanza-delete use the first configured; "       \
          "restore and archive-get the first that has the backup or segment; info, expire, "       \
          "verify, check and stanza-create every one; archive-push always pushes to every one.",   \
      .commands =                                                                                  \
          "backup restore archive-get info expire verify annotate repo-ls repo-get "               \
          "stanza-delete metrics")                                                                 \
    X(filter, String, "filter",                                                                    \
      .help = "repo-ls: list only the entries whose name matches this (POSIX extended) regex.",    \
      .commands = "repo-ls")                                                                       \
    X(recurse, Boolean, "recurse", .defaultValue = "n",                                            \
      .help = "repo-ls: list the paths below the path too, as relative names (a/b).",              \
      .commands = "repo-ls")                                                                       \
    X(sort, String, "sort", .defaultValue = "asc", .allowed = "asc desc none",                     \
      .help = "repo-ls: order of the entries by name: asc, desc, or none (as the storage lists).", \
      .commands = "repo-ls")                                                                       \
    X(raw, Boolean, "raw", .defaultValue = "n",                                                    \
      .help =                                                                                      \
          "repo-get: the stored bytes, not decrypted (compressed files are never decompressed, "   \
          "as pgBackRest's).",                                                                     \
      .commands = "repo-get")                                                                      \
    X(ignoreMissing, Boolean, "ignore-missing", .defaultValue = "n",                               \
      .help = "repo-get: exit 1 without an error when the file does not exist.",                   \
      .commands = "repo-get")
