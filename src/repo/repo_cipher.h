// An encrypted repository's key and its metadata files (doc/repository-format.md, "Encryption").
//
// backup.info and archive.info (and their .copy) of an encrypted repository are
//   line 1: {"checksum":"<sha256 of the envelope's JSON>","key-envelope":{...}}\n   (in the clear)
//   then:   the checksummed JSON of the file, sealed as one unit (crypto/sealed.h) for the piece
//           <the file's repository path without ".copy">
// Every other metadata file (manifests, resume journals) is the sealed unit alone.
//
// Which envelope counts: the highest `generation` among backup.info and archive.info, each read
// from its main file, from its .copy only when the main one is missing or its envelope damaged.
// stanza-rekey writes backup.info.copy, backup.info, archive.info.copy, archive.info in that
// order, so a crash anywhere leaves exactly one passphrase opening the counted envelope.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "crypto/key_envelope.h"
#include "crypto/repo_key.h"
#include "repo/layout.h"
#include "storage/storage.h"

namespace backrest::repo {

// The cipher settings of a command (repo1-cipher-type, repo1-cipher-pass).
struct CipherSettings {
    std::string type = "none";        // "none" | "aes-256-gcm"
    std::optional<std::string> pass;  // never printed
};

// The envelope that counts, and where it was read.
struct CountedEnvelope {
    crypto::KeyEnvelope envelope;
    std::string path;          // repository path of the file it was read from
    uint64_t highestSeen = 0;  // the highest generation in any of the four files
};

enum class RepoCipherState { Empty, Plain, Encrypted };

struct RepoCipherScan {
    RepoCipherState state = RepoCipherState::Empty;
    std::optional<CountedEnvelope> counted;  // set when Encrypted
};

// The envelope line of a stored info file: nullopt when the file does not start with one (a plain
// file); FormatError naming `context` when the line is damaged.
std::optional<crypto::KeyEnvelope> readEnvelopeLine(const std::string& stored,
                                                    const std::string& context);
std::string envelopeLine(const crypto::KeyEnvelope& envelope);

// Reads the four info files and applies the highest-generation rule. CryptoError when the
// repository is encrypted but every envelope is damaged.
RepoCipherScan scanRepoCipher(storage::Storage& repo, const Layout& layout);

// The repository key with `settings`, checked against the repository: nullptr for an unencrypted
// or empty one. CryptoError (the passphrase never in it) when the settings and the repository
// disagree or the passphrase does not open the counted envelope.
std::shared_ptr<const crypto::RepoKey> openRepoKey(storage::Storage& repo, const Layout& layout,
                                                   const CipherSettings& settings);
// openRepoKey's checks of `settings` and unwrapping, on a scan already made (archive-get's, of
// archive.info alone: repo/info.h openArchiveInfo). `plainPath`: the info file a Plain scan read,
// named when the settings want a key it does not hold.
std::shared_ptr<const crypto::RepoKey> openScannedKey(storage::Storage& repo, const Layout& layout,
                                                      const RepoCipherScan& scan,
                                                      const CipherSettings& settings,
                                                      const std::string& plainPath);

// The envelope info files are written with: the counted one when it wraps `key`, else one given
// to rememberEnvelope (stanza-create, before any info file exists). Re-read at each save so a
// long-running daemon never writes back an envelope a rekey has replaced.
void rememberEnvelope(const crypto::RepoKey& key, const crypto::KeyEnvelope& envelope);
crypto::KeyEnvelope envelopeForWrite(storage::Storage& repo, const Layout& layout);

// An info file's stored bytes: the envelope line then `text` sealed for `piece`.
std::string sealInfoText(const crypto::KeyEnvelope& envelope, const crypto::RepoKey& key,
                         const std::string& piece, const std::string& text);
// Other metadata: `text` sealed for `piece`, or `text` itself without a key.
std::string sealMetadata(const std::shared_ptr<const crypto::RepoKey>& key,
                         const std::string& piece, std::string text);
// The text of stored metadata (an info file's envelope line skipped): opened with `key`, or as
// stored without one. CryptoError naming `context` when a sealed file is read without a key, a
// plain one with a key, or a sealed one does not open.
std::string openMetadata(const std::shared_ptr<const crypto::RepoKey>& key,
                         const std::string& piece, std::string stored, const std::string& context);

// stanza-rekey: the key opened with `currentPass` (or, finishing an interrupted rekey, with
// `newPass`), wrapped under `newPass` as generation highestSeen + 1 and written into
// backup.info.copy, backup.info, archive.info.copy, archive.info in that order, bodies unchanged.
// Returns the new generation.
uint64_t rekeyRepo(storage::Storage& repo, const Layout& layout, const std::string& currentPass,
                   const std::string& newPass);

}  // namespace backrest::repo
