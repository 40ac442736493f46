// The requests and replies of doc/protocol.md as typed structs, each with its encoding and
// decoding in messages.cpp: the field names are written there once, not on both sides of the
// socket. Decoding a message of the wrong shape is a ProtocolError naming the message and field.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "protocol/frame.h"

namespace backrest::protocol {

// --- hello -----------------------------------------------------------------------------------

struct Hello {
    static constexpr const char* kType = "hello";
    uint64_t version = kVersion;
    std::string client;
    Message toMessage() const;
    static Hello fromMessage(const Message& message);
};

struct HelloReply {
    uint64_t version = kVersion;
    std::string server;
    int64_t pid = 0;  // the daemon's own pid; 0 when it did not say (the launcher adopts by it)
    Message toMessage() const;
    static HelloReply fromMessage(const Message& message);
};

// --- archive-push, archive-status ------------------------------------------------------------

struct ArchivePushReply {
    std::string result;  // stored, already-present, pushed-ahead, streamed, stream-completed
    Message toMessage() const;
    static ArchivePushReply fromMessage(const Message& message);
};

struct ArchivePush {
    static constexpr const char* kType = "archive-push";
    using Reply = ArchivePushReply;
    std::string path;  // absolute path of a file in pg_wal
    Message toMessage() const;
    static ArchivePush fromMessage(const Message& message);
};

// Null fields (nullopt) are "none yet"; they are sent as JSON null.
struct ArchiveStatusReply {
    std::optional<std::string> lastArchived;
    std::optional<int64_t> lastArchivedTime;  // epoch seconds
    std::optional<std::string> lastFailure;
    std::optional<int64_t> lastFailureTime;
    std::optional<std::string> lastFailureMessage;
    uint64_t pending = 0;  // .ready files waiting
    uint64_t pushed = 0;   // since the daemon started
    bool async = false;
    std::string stream;  // off, streaming <segment>, retrying: <why>, off: <why>
    uint64_t streamed = 0;
    // The server's archive requests that failed, per repository index, since the daemon started
    // (absent from an older daemon's reply: empty).
    std::map<int, uint64_t> failures{};
    Message toMessage() const;
    static ArchiveStatusReply fromMessage(const Message& message);
};

struct ArchiveStatus {
    static constexpr const char* kType = "archive-status";
    using Reply = ArchiveStatusReply;
    Message toMessage() const;
    static ArchiveStatus fromMessage(const Message& message);
};

// --- backup-begin, backup-copy, backup-finish ------------------------------------------------

struct BackupBeginReply {
    std::string label;
    std::optional<int> repo{};  // the repository the backup goes to (absent: an older daemon)
    Message toMessage() const;
    static BackupBeginReply fromMessage(const Message& message);
};

struct BackupBegin {
    static constexpr const char* kType = "backup-begin";
    using Reply = BackupBeginReply;
    std::string backupType = "full";  // full, diff, incr
    std::optional<int> repo{};        // repoN; absent: the daemon's first (backup's default)
    Message toMessage() const;
    static BackupBegin fromMessage(const Message& message);
};

// The interim message of a backup-copy, about every 0.5 s.
struct BackupCopyProgress {
    uint64_t bytesTotal = 0, bytesDone = 0;
    uint64_t filesTotal = 0, filesDone = 0;
    Message toMessage() const;
    static BackupCopyProgress fromMessage(const Message& message);
};

struct BackupCopyReply {
    Message toMessage() const;
    static BackupCopyReply fromMessage(const Message& message);
};

struct Tablespace {
    uint32_t oid = 0;
    std::string name;
    bool operator==(const Tablespace&) const = default;
};

// A row of pg_database at backup start: info --set lists a backup's databases by name.
struct Database {
    uint32_t oid = 0;
    std::string name;
    bool operator==(const Database&) const = default;
};

// What pg_backup_start said, sent once the server's backup has begun.
struct BackupCopy {
    static constexpr const char* kType = "backup-copy";
    using Reply = BackupCopyReply;
    std::string lsn;
    std::string walFile;
    int64_t timestamp = 0;  // epoch seconds, truncated
    uint32_t walSegmentSize = 0;
    bool dataChecksums = false;
    std::vector<Tablespace> tablespaces;
    // nullopt: not sent (an extension older than the worker); the manifest then records none.
    std::optional<std::vector<Database>> databases;
    Message toMessage() const;
    static BackupCopy fromMessage(const Message& message);
};

struct BackupFinishReply {
    std::string label;
    uint64_t size = 0;
    uint64_t repoSize = 0;
    uint64_t fileCount = 0;
    std::string walStart;
    std::string walStop;
    std::optional<std::string> expire;  // the retention report, when retention is configured
    Message toMessage() const;
    static BackupFinishReply fromMessage(const Message& message);
};

// What pg_backup_stop returned.
struct BackupFinish {
    static constexpr const char* kType = "backup-finish";
    using Reply = BackupFinishReply;
    std::string lsn;
    std::string walFile;
    std::string labelFile;
    std::string tablespaceMap;
    Message toMessage() const;
    static BackupFinish fromMessage(const Message& message);
};

// --- stanza-create, expire, info -------------------------------------------------------------

struct StanzaCreateReply {
    std::string message;
    Message toMessage() const;
    static StanzaCreateReply fromMessage(const Message& message);
};

struct StanzaCreate {
    static constexpr const char* kType = "stanza-create";
    using Reply = StanzaCreateReply;
    Message toMessage() const;
    static StanzaCreate fromMessage(const Message& message);
};

struct ExpireReply {
    std::string report;  // what was (or would be) removed
    Message toMessage() const;
    static ExpireReply fromMessage(const Message& message);
};

struct Expire {
    static constexpr const char* kType = "expire";
    using Reply = ExpireReply;
    std::optional<std::string> set;  // expire this backup set only
    bool dryRun = false;
    Message toMessage() const;
    static Expire fromMessage(const Message& message);
};

struct InfoReply {
    // The stanza's backups as `backrest info --output=json` lists them (a JSON array): that
    // document has its own definition (worker/info.cpp), carried here as it is.
    Message backups = Message::array();
    // Several repositories: each one that could not be read, [{"repo":2,"code":N,"message":…}],
    // its backups absent from `backups` (the others' are there). Absent on the wire when empty.
    Message errors = Message::array();
    Message toMessage() const;
    static InfoReply fromMessage(const Message& message);
};

struct Info {
    static constexpr const char* kType = "info";
    using Reply = InfoReply;
    Message toMessage() const;
    static Info fromMessage(const Message& message);
};

// --- drill -----------------------------------------------------------------------------------

// The interim messages of a drill: the drill's id once it holds its directory, then each phase.
struct DrillProgress {
    std::optional<std::string> id;  // the drill record's id (first message)
    std::string phase;              // plan, restore, start, recovery, checks, stop
    Message toMessage() const;
    static DrillProgress fromMessage(const Message& message);
};

// A drill that ran to its end and passed; any other outcome is an error reply.
struct DrillReply {
    std::string id;
    std::string backup;  // the backup drilled
    Message toMessage() const;
    static DrillReply fromMessage(const Message& message);
};

// Runs `backrest drill` for the daemon's stanza (a process of the daemon's, not of the server).
struct Drill {
    static constexpr const char* kType = "drill";
    using Reply = DrillReply;
    std::optional<std::string> set;         // --set
    std::optional<std::string> targetType;  // --type
    std::optional<std::string> target;      // --target
    std::optional<int> repo{};              // --repo
    Message toMessage() const;
    static Drill fromMessage(const Message& message);
};

}  // namespace backrest::protocol
