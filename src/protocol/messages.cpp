// Encoding and decoding of each request and reply: the one place that names their fields.
#include "protocol/messages.h"

#include <cstdlib>
#include <limits>

#include "common/error.h"

namespace backrest::protocol {

namespace {

// Reads the fields of one message; a missing field or one of the wrong JSON type is a
// ProtocolError that names the message and the field, never a JSON library exception.
class Fields {
  public:
    Fields(const Message& message, std::string what) : message_(message), what_(std::move(what)) {}

    std::string string(const char* key) const {
        return get(key, &Message::is_string, "a string").get<std::string>();
    }
    bool boolean(const char* key) const {
        return get(key, &Message::is_boolean, "true or false").get<bool>();
    }
    int64_t integer(const char* key) const {
        const Message& v = get(key, &Message::is_number_integer, "an integer");
        if (v.is_number_unsigned() && v.get<uint64_t>() > std::numeric_limits<int64_t>::max())
            fail(key, fmt::format("is out of range: {}", v.dump()));
        return v.get<int64_t>();
    }
    // JSON text gives a non-negative integer as unsigned, a message built in C++ as signed:
    // both are accepted, a negative one is not.
    uint64_t unsignedInt(const char* key) const {
        const Message& v = get(key, &Message::is_number_integer, "an unsigned integer");
        if (!v.is_number_unsigned() && v.get<int64_t>() < 0)
            fail(key, fmt::format("is not an unsigned integer: {}", v.dump()));
        return v.get<uint64_t>();
    }
    uint32_t unsigned32(const char* key) const {
        uint64_t v = unsignedInt(key);
        if (v > std::numeric_limits<uint32_t>::max())
            fail(key, fmt::format("is out of range: {}", v));
        return static_cast<uint32_t>(v);
    }
    const Message& array(const char* key) const { return get(key, &Message::is_array, "an array"); }

    // Absent or null: nullopt.
    std::optional<std::string> optString(const char* key) const {
        return present(key) ? std::optional(string(key)) : std::nullopt;
    }
    std::optional<int64_t> optInteger(const char* key) const {
        return present(key) ? std::optional(integer(key)) : std::nullopt;
    }
    std::optional<bool> optBoolean(const char* key) const {
        return present(key) ? std::optional(boolean(key)) : std::nullopt;
    }

  private:
    bool present(const char* key) const {
        auto it = message_.find(key);
        return it != message_.end() && !it->is_null();
    }

    const Message& get(const char* key, bool (Message::*is)() const noexcept,
                       const char* expected) const {
        auto it = message_.find(key);
        if (it == message_.end()) fail(key, "is missing");
        if (!((*it).*is)())
            fail(key, fmt::format("is not {}: {}", expected, it->dump().substr(0, 100)));
        return *it;
    }

    [[noreturn]] void fail(const char* key, const std::string& why) const {
        raise(ErrorCode::Protocol, "malformed {}: field '{}' {}", what_, key, why);
    }

    const Message& message_;
    std::string what_;
};

std::string request(const char* type) {
    return fmt::format("'{}' request", type);
}

std::string reply(const char* type) {
    return fmt::format("reply to '{}'", type);
}

Message orNull(const std::optional<std::string>& value) {
    return value ? Message(*value) : Message(nullptr);
}

Message orNull(const std::optional<int64_t>& value) {
    return value ? Message(*value) : Message(nullptr);
}

}  // namespace

// --- hello -----------------------------------------------------------------------------------

Message Hello::toMessage() const {
    return {{"type", kType}, {"version", version}, {"client", client}};
}

Hello Hello::fromMessage(const Message& message) {
    Fields f(message, "hello");
    if (f.string("type") != kType)
        raise(ErrorCode::Protocol, "expected hello, not '{}'", f.string("type"));
    return {f.unsignedInt("version"), f.optString("client").value_or("")};
}

Message HelloReply::toMessage() const {
    return {{"ok", true}, {"version", version}, {"server", server}, {"pid", pid}};
}

HelloReply HelloReply::fromMessage(const Message& message) {
    Fields f(message, "hello reply");
    // A pid that is not a positive integer is as good as none: the launcher then cannot adopt.
    int64_t pid = 0;
    if (auto p = message.find("pid"); p != message.end() && p->is_number_integer())
        pid = std::max<int64_t>(p->get<int64_t>(), 0);
    return {f.unsignedInt("version"), f.optString("server").value_or(""), pid};
}

// --- archive-push, archive-status ------------------------------------------------------------

Message ArchivePush::toMessage() const {
    return {{"path", path}};
}

ArchivePush ArchivePush::fromMessage(const Message& message) {
    return {Fields(message, request(kType)).string("path")};
}

Message ArchivePushReply::toMessage() const {
    return {{"result", result}};
}

ArchivePushReply ArchivePushReply::fromMessage(const Message& message) {
    return {Fields(message, reply(ArchivePush::kType)).string("result")};
}

Message ArchiveStatus::toMessage() const {
    return Message::object();
}

ArchiveStatus ArchiveStatus::fromMessage(const Message&) {
    return {};
}

namespace {
Message failuresByRepo(const std::map<int, uint64_t>& failures) {
    Message out = Message::object();
    for (const auto& [repo, count] : failures) out[fmt::format("repo{}", repo)] = count;
    return out;
}
}  // namespace

Message ArchiveStatusReply::toMessage() const {
    Message out = {{"last-archived", orNull(lastArchived)},
                   {"last-archived-time", orNull(lastArchivedTime)},
                   {"last-failure", orNull(lastFailure)},
                   {"last-failure-time", orNull(lastFailureTime)},
                   {"last-failure-message", orNull(lastFailureMessage)},
                   {"pending", pending},
                   {"pushed", pushed},
                   {"async", async},
                   {"stream", stream},
                   {"streamed", streamed}};
    if (!failures.empty()) out["failures"] = failuresByRepo(failures);
    return out;
}

ArchiveStatusReply ArchiveStatusReply::fromMessage(const Message& message) {
    Fields f(message, reply(ArchiveStatus::kType));
    ArchiveStatusReply r;
    r.lastArchived = f.optString("last-archived");
    r.lastArchivedTime = f.optInteger("last-archived-time");
    r.lastFailure = f.optString("last-failure");
    r.lastFailureTime = f.optInteger("last-failure-time");
    r.lastFailureMessage = f.optString("last-failure-message");
    r.pending = f.unsignedInt("pending");
    r.pushed = f.unsignedInt("pushed");
    r.async = f.boolean("async");
    r.stream = f.string("stream");
    r.streamed = f.unsignedInt("streamed");
    if (auto it = message.find("failures"); it != message.end() && it->is_object())
        for (const auto& [repo, count] : it->items()) {
            if (!repo.starts_with("repo") || !count.is_number_unsigned())
                raise(ErrorCode::Protocol, "malformed archive-status reply: failures.{} = {}", repo,
                      count.dump());
            r.failures[std::atoi(repo.c_str() + 4)] = count.get<uint64_t>();
        }
    return r;
}

// --- backup-begin, backup-copy, backup-finish ------------------------------------------------

Message BackupBegin::toMessage() const {
    Message m{{"backup-type", backupType}};
    if (repo) m["repo"] = *repo;
    return m;
}

BackupBegin BackupBegin::fromMessage(const Message& message) {
    Fields f(message, request(kType));
    BackupBegin b;
    b.backupType = f.optString("backup-type").value_or("full");
    if (auto repo = f.optInteger("repo")) {
        // repo1..repo4 are what exists; a wider value must not wrap onto one of them.
        if (*repo < 1 || *repo > 4)
            raise(ErrorCode::Protocol,
                  "malformed '{}' request: field 'repo' must be 1 to 4 (repo1..repo4), not {}",
                  kType, *repo);
        b.repo = static_cast<int>(*repo);
    }
    return b;
}

Message BackupBeginReply::toMessage() const {
    Message m{{"label", label}};
    if (repo) m["repo"] = *repo;
    return m;
}

BackupBeginReply BackupBeginReply::fromMessage(const Message& message) {
    Fields f(message, reply(BackupBegin::kType));
    BackupBeginReply r;
    r.label = f.string("label");
    if (auto repo = f.optInteger("repo")) r.repo = static_cast<int>(*repo);
    return r;
}

Message BackupCopy::toMessage() const {
    Message spaces = Message::array();
    for (const Tablespace& t : tablespaces) spaces.push_back({{"oid", t.oid}, {"name", t.name}});
    Message m{{"lsn", lsn},
              {"wal-file", walFile},
              {"timestamp", timestamp},
              {"data-checksums", dataChecksums},
              {"wal-segment-size", walSegmentSize},
              {"tablespaces", spaces}};
    if (databases) {
        Message list = Message::array();
        for (const Database& d : *databases) list.push_back({{"oid", d.oid}, {"name", d.name}});
        m["databases"] = std::move(list);
    }
    return m;
}

BackupCopy BackupCopy::fromMessage(const Message& message) {
    Fields f(message, request(kType));
    BackupCopy c;
    c.lsn = f.string("lsn");
    c.walFile = f.string("wal-file");
    c.timestamp = f.integer("timestamp");
    c.dataChecksums = f.boolean("data-checksums");
    c.walSegmentSize = f.unsigned32("wal-segment-size");
    for (const Message& t : f.array("tablespaces")) {
        Fields space(t, request(kType) + " tablespace");
        if (!t.is_object())
            raise(ErrorCode::Protocol, "malformed {}: a tablespace is not an object: {}",
                  request(kType), t.dump().substr(0, 100));
        c.tablespaces.push_back({space.unsigned32("oid"), space.string("name")});
    }
    if (message.contains("databases")) {
        c.databases.emplace();
        for (const Message& d : f.array("databases")) {
            if (!d.is_object())
                raise(ErrorCode::Protocol, "malformed {}: a database is not an object: {}",
                      request(kType), d.dump().substr(0, 100));
            Fields database(d, request(kType) + " database");
            c.databases->push_back({database.unsigned32("oid"), database.string("name")});
        }
    }
    return c;
}

Message BackupCopyProgress::toMessage() const {
    return {{"bytes-total", bytesTotal},
            {"bytes-done", bytesDone},
            {"files-total", filesTotal},
            {"files-done", filesDone}};
}

BackupCopyProgress BackupCopyProgress::fromMessage(const Message& message) {
    Fields f(message, "progress of 'backup-copy'");
    return {f.unsignedInt("bytes-total"), f.unsignedInt("bytes-done"), f.unsignedInt("files-total"),
            f.unsignedInt("files-done")};
}

Message BackupCopyReply::toMessage() const {
    return Message::object();
}

BackupCopyReply BackupCopyReply::fromMessage(const Message&) {
    return {};
}

Message BackupFinish::toMessage() const {
    return {{"lsn", lsn},
            {"wal-file", walFile},
            {"label-file", labelFile},
            {"tablespace-map", tablespaceMap}};
}

BackupFinish BackupFinish::fromMessage(const Message& message) {
    Fields f(message, request(kType));
    return {f.string("lsn"), f.string("wal-file"), f.string("label-file"),
            f.optString("tablespace-map").value_or("")};
}

Message BackupFinishReply::toMessage() const {
    Message m = {{"label", label},          {"size", size},          {"repo-size", repoSize},
                 {"file-count", fileCount}, {"wal-start", walStart}, {"wal-stop", walStop}};
    if (expire) m["expire"] = *expire;
    return m;
}

BackupFinishReply BackupFinishReply::fromMessage(const Message& message) {
    Fields f(message, reply(BackupFinish::kType));
    return {f.string("label"),           f.unsignedInt("size"), f.unsignedInt("repo-size"),
            f.unsignedInt("file-count"), f.string("wal-start"), f.string("wal-stop"),
            f.optString("expire")};
}

// --- stanza-create, expire, info -------------------------------------------------------------

Message StanzaCreate::toMessage() const {
    return Message::object();
}

StanzaCreate StanzaCreate::fromMessage(const Message&) {
    return {};
}

Message StanzaCreateReply::toMessage() const {
    return {{"message", message}};
}

StanzaCreateReply StanzaCreateReply::fromMessage(const Message& message) {
    return {Fields(message, reply(StanzaCreate::kType)).string("message")};
}

Message Expire::toMessage() const {
    Message m = {{"dry-run", dryRun}};
    if (set) m["set"] = *set;
    return m;
}

Expire Expire::fromMessage(const Message& message) {
    Fields f(message, request(kType));
    return {f.optString("set"), f.optBoolean("dry-run").value_or(false)};
}

Message ExpireReply::toMessage() const {
    return {{"report", report}};
}

ExpireReply ExpireReply::fromMessage(const Message& message) {
    return {Fields(message, reply(Expire::kType)).string("report")};
}

Message Info::toMessage() const {
    return Message::object();
}

Info Info::fromMessage(const Message&) {
    return {};
}

Message InfoReply::toMessage() const {
    Message m{{"backups", backups}};
    if (!errors.empty()) m["errors"] = errors;
    return m;
}

InfoReply InfoReply::fromMessage(const Message& message) {
    Fields f(message, reply(Info::kType));
    InfoReply r{f.array("backups")};
    if (message.contains("errors")) {
        r.errors = f.array("errors");
        for (const Message& e : r.errors) {
            Fields each(e, reply(Info::kType) + " (errors)");
            each.integer("repo");
            each.string("message");
        }
    }
    return r;
}

Message DrillProgress::toMessage() const {
    Message m{{"phase", phase}};
    if (id) m["drill-id"] = *id;
    return m;
}

DrillProgress DrillProgress::fromMessage(const Message& message) {
    Fields f(message, "progress of 'drill'");
    return {f.optString("drill-id"), f.string("phase")};
}

// "drill-id", not "id": a reply's "id" is its request's.
Message DrillReply::toMessage() const {
    return {{"drill-id", id}, {"backup", backup}};
}

DrillReply DrillReply::fromMessage(const Message& message) {
    Fields f(message, reply(Drill::kType));
    return {f.string("drill-id"), f.string("backup")};
}

Message Drill::toMessage() const {
    Message m = Message::object();
    if (set) m["set"] = *set;
    if (targetType) m["target-type"] = *targetType;
    if (target) m["target"] = *target;
    if (repo) m["repo"] = *repo;
    return m;
}

Drill Drill::fromMessage(const Message& message) {
    Fields f(message, request(kType));
    Drill d;
    d.set = f.optString("set");
    d.targetType = f.optString("target-type");
    d.target = f.optString("target");
    if (auto repo = f.optInteger("repo")) {
        if (*repo < 1 || *repo > 4)
            raise(ErrorCode::Protocol,
                  "malformed '{}' request: field 'repo' must be 1 to 4 (repo1..repo4), not {}",
                  kType, *repo);
        d.repo = static_cast<int>(*repo);
    }
    return d;
}

}  // namespace backrest::protocol
