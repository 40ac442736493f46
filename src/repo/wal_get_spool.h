// The archive-get spool (archive-async): WAL segments fetched ahead of recovery into
// <spool-path>/archive/<stanza>/in, each verified before it is renamed to its segment name, beside
// the repository's SHA-256 of it, and handed to PostgreSQL from there once its bytes match it. The
// spool is tied to one cluster (its identity file); what recovery no longer needs is removed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"

namespace backrest::repo {

// <spool-path>/archive/<stanza>/in (pgBackRest's place for it).
std::string walGetSpoolDirectory(const std::string& spoolPath, const std::string& stanza);

// What the spool says of one segment.
struct SpoolEntry {
    enum class Kind { Missing, Ready, NotArchived, Failed };
    Kind kind = Kind::Missing;
    std::optional<Error> error{};  // Failed: what the fetcher met
};

class WalGetSpool {
  public:
    // `identity` names the cluster the spool serves: the stanza, the restoring cluster's system
    // identifier and WAL segment size (identityOf). Nothing is touched until a call says so.
    WalGetSpool(std::string directory, std::string identity, uint64_t systemId,
                uint32_t segmentSize);

    static std::string identityOf(const std::string& stanza, uint64_t systemId,
                                  uint32_t segmentSize);

    const std::string& directory() const { return directory_; }
    uint32_t segmentSize() const { return segmentSize_; }

    // Creates the directory and makes the spool this cluster's: a spool of another identity (or
    // none) is emptied first, so nothing fetched for another cluster or stanza is ever served.
    void claim();
    // The spool is still this cluster's (a fetcher stops when another claimed it).
    bool owned() const;

    // The segment recovery asked for last (written by archive-get, read by the fetcher).
    void recordAsked(const std::string& walName);
    std::optional<std::string> asked() const;

    SpoolEntry look(const std::string& walName) const;
    // The name (in the spool) the fetcher writes a segment under, not yet Ready.
    static std::string stagingName(const std::string& walName);
    // Makes a staged segment Ready: its SHA-256 (the repository's, verified by the fetch) is
    // written first, then the segment renamed to its name, so a Ready segment always has it.
    // `warning` (several repositories: the ones that failed before the one that gave it) is
    // written beside it too, and logged by take() when the segment is served, so the server log
    // names them as the synchronous fetch would.
    void publish(const std::string& walName, const std::string& sha256,
                 const std::string& warning = {});
    // Hands a Ready segment to PostgreSQL: checks its size and long page header again (its own
    // address, this cluster's system identifier) and its bytes against the SHA-256 published
    // with it, then renames it to `destination` (copied within the destination's directory then
    // renamed when on another file system) and removes it from the spool. false: not taken, to
    // be fetched from the repository: a copy that fails the check (removed, with a warning
    // naming the segment and the spool file), or one removed meanwhile (the fetcher pruned it).
    // The bytes are checked because PostgreSQL takes a record whose CRC fails for the end of
    // WAL: a copy damaged past its header would end recovery early, with older data.
    bool take(const std::string& walName, const std::string& destination);
    // Forgets a NotArchived or Failed answer once given, so the next ask looks again.
    void forget(const std::string& walName);

    // The segments to hold after `asked`: the next ones on its timeline, as many as fit in
    // queueMax bytes (at least one).
    std::vector<std::string> readAhead(const std::string& asked, uint64_t queueMax) const;
    // Removes every segment, answer and temporary file that is neither `asked` nor in `queue`:
    // segments older than the one asked, of another timeline, or past the queue.
    void prune(const std::string& asked, const std::vector<std::string>& queue);
    // Removes every temporary and staged file (left by a fetcher killed mid-write).
    void removeTemporary();

    // The fetcher's answers for a segment the archive does not have, or could not give.
    void recordNotArchived(const std::string& walName);
    void recordFailed(const std::string& walName, const Error& error);

    // Removes everything: the fetcher leaves nothing behind when it stops.
    void clear();

  private:
    std::string path(const std::string& name) const { return directory_ + "/" + name; }
    void writeSmallFile(const std::string& name, const std::string& content) const;

    std::string directory_, identity_;
    uint64_t systemId_;
    uint32_t segmentSize_;
};

}  // namespace backrest::repo
