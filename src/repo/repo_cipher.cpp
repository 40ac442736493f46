// The repository key: finding the envelope that counts, opening it, sealing metadata, rekeying.
#include "repo/repo_cipher.h"

#include <fmt/ranges.h>

#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <span>

#include "common/error.h"
#include "common/log.h"
#include "crypto/sealed.h"
#include "repo/checksummed_json.h"

namespace backrest::repo {

namespace {

constexpr std::string_view kEnvelopePrefix = "{\"key-envelope\":";

std::span<const uint8_t> bytesOf(std::string_view s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

bool startsSealed(std::string_view s) {
    return s.size() >= 4 && crypto::looksSealed(bytesOf(s.substr(0, 4)));
}

// The bytes after the envelope line (the whole file when it has none).
std::string_view bodyOf(std::string_view stored) {
    if (!stored.starts_with(kEnvelopePrefix)) return stored;
    size_t nl = stored.find('\n');
    return nl == std::string_view::npos ? std::string_view() : stored.substr(nl + 1);
}

struct InfoRead {
    std::optional<crypto::KeyEnvelope> envelope;
    bool exists = false;
    bool damaged = false;  // has an envelope line that does not parse or verify
};

InfoRead readOne(storage::Storage& repo, const std::string& path) {
    InfoRead r;
    auto stored = storage::readAllIfExists(repo, path);
    if (!stored) return r;
    r.exists = true;
    try {
        r.envelope = readEnvelopeLine(*stored, repo.fullPath(path));
    } catch (const Error& e) {
        logWarn("{}", e.what());
        r.damaged = true;
    }
    return r;
}

std::mutex& registryMutex() {
    static std::mutex m;
    return m;
}
std::map<std::string, crypto::KeyEnvelope>& registry() {
    static std::map<std::string, crypto::KeyEnvelope> r;
    return r;
}

std::string where(storage::Storage& repo, const Layout& layout) {
    return fmt::format("stanza '{}' in repository '{}'", layout.stanza, repo.fullPath(""));
}

}  // namespace

std::string envelopeLine(const crypto::KeyEnvelope& envelope) {
    return sealChecksummed(std::string(kEnvelopePrefix) + envelope.toJson().dump());
}

std::optional<crypto::KeyEnvelope> readEnvelopeLine(const std::string& stored,
                                                    const std::string& context) {
    if (!stored.starts_with(kEnvelopePrefix)) return std::nullopt;
    size_t nl = stored.find('\n');
    if (nl == std::string::npos)
        raise(ErrorCode::Format, "'{}': the key envelope line is cut short: the file is damaged",
              context);
    std::string line = stored.substr(0, nl + 1);
    try {
        verifyChecksummed(line, context + " (key envelope)");
    } catch (const Error& e) {
        raise(ErrorCode::Format, "'{}': the key envelope is damaged ({})", context, e.what());
    }
    nlohmann::json doc = nlohmann::json::parse(line, nullptr, false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("key-envelope"))
        raise(ErrorCode::Format, "'{}': the key envelope is not valid JSON: the file is damaged",
              context);
    return crypto::KeyEnvelope::fromJson(doc.at("key-envelope"), context);
}

RepoCipherScan scanRepoCipher(storage::Storage& repo, const Layout& layout) {
    RepoCipherScan scan;
    bool anyFile = false;
    std::vector<std::string> damaged;
    uint64_t highest = 0;
    for (const std::string& base : {layout.backupInfo(), layout.archiveInfo()}) {
        InfoRead main = readOne(repo, base);
        InfoRead copy = readOne(repo, base + ".copy");
        anyFile = anyFile || main.exists || copy.exists;
        for (const InfoRead* r : {&main, &copy})
            if (r->envelope) highest = std::max(highest, r->envelope->generation);
        if (main.damaged) damaged.push_back(repo.fullPath(base));
        if (copy.damaged) damaged.push_back(repo.fullPath(base + ".copy"));
        // The .copy counts only when the main file is missing or its envelope damaged: a rekey
        // writes the copy first, so a copy ahead of its main file is a rekey that did not finish.
        const InfoRead& counted = (main.exists && !main.damaged) ? main : copy;
        std::string countedPath = (&counted == &main) ? base : base + ".copy";
        if (!counted.envelope) continue;
        if (!scan.counted || counted.envelope->generation > scan.counted->envelope.generation)
            scan.counted = CountedEnvelope{*counted.envelope, countedPath, 0};
    }
    if (scan.counted) {
        scan.state = RepoCipherState::Encrypted;
        scan.counted->highestSeen = highest;
    } else if (!damaged.empty()) {
        raise(
            ErrorCode::Crypto,
            "{} is encrypted but no key envelope can be read (damaged: {}): restore backup.info or "
            "archive.info (or a .copy) from a copy of the repository",
            where(repo, layout), fmt::join(damaged, ", "));
    } else if (anyFile) {
        scan.state = RepoCipherState::Plain;
    }
    return scan;
}

std::shared_ptr<const crypto::RepoKey> openRepoKey(storage::Storage& repo, const Layout& layout,
                                                   const CipherSettings& settings) {
    return openScannedKey(repo, layout, scanRepoCipher(repo, layout), settings,
                          layout.backupInfo());
}

std::shared_ptr<const crypto::RepoKey> openScannedKey(storage::Storage& repo, const Layout& layout,
                                                      const RepoCipherScan& scan,
                                                      const CipherSettings& settings,
                                                      const std::string& plainPath) {
    bool wantsCipher = settings.type != "none";
    if (scan.state != RepoCipherState::Encrypted) {
        if (!wantsCipher && settings.pass)
            raise(ErrorCode::Crypto,
                  "repo1-cipher-pass is set but repo1-cipher-type is none for {}{}: set "
                  "repo1-cipher-type=aes-256-gcm, or remove repo1-cipher-pass",
                  where(repo, layout),
                  scan.state == RepoCipherState::Plain ? ", which is not encrypted" : "");
        if (wantsCipher && scan.state == RepoCipherState::Plain)
            raise(ErrorCode::Crypto,
                  "repo1-cipher-type is {} but {} is not encrypted ({} holds no key envelope): set "
                  "repo1-cipher-type=none and remove repo1-cipher-pass for this repository (an "
                  "existing repository is not encrypted in place)",
                  settings.type, where(repo, layout), repo.fullPath(plainPath));
        if (wantsCipher && !settings.pass)
            raise(ErrorCode::Crypto,
                  "repo1-cipher-type is {} but repo1-cipher-pass is not set: set it in the config "
                  "file (not readable by others) or in BACKREST_REPO1_CIPHER_PASS",
                  settings.type);
        return nullptr;
    }
    const CountedEnvelope& counted = *scan.counted;
    std::string source = repo.fullPath(counted.path);
    if (!wantsCipher || settings.type != counted.envelope.cipherType)
        raise(ErrorCode::Crypto,
              "{} is encrypted with {} (key {}, generation {} in '{}') but repo1-cipher-type is "
              "{}: set "
              "repo1-cipher-type={} and repo1-cipher-pass (config file or "
              "BACKREST_REPO1_CIPHER_PASS)",
              where(repo, layout), counted.envelope.cipherType, counted.envelope.keyId,
              counted.envelope.generation, source, settings.type, counted.envelope.cipherType);
    if (!settings.pass)
        raise(
            ErrorCode::Crypto,
            "{} is encrypted (key {}) but repo1-cipher-pass is not set: set it in the config file "
            "(not readable by others) or in BACKREST_REPO1_CIPHER_PASS",
            where(repo, layout), counted.envelope.keyId);
    try {
        return crypto::unwrapKey(counted.envelope, *settings.pass, source);
    } catch (const Error& e) {
        if (e.code() != ErrorCode::Crypto) throw;
        raise(ErrorCode::Crypto,
              "repo1-cipher-pass does not open the key of '{}' (key {}, generation {}): a wrong "
              "passphrase, or an envelope altered since it was written; after an interrupted "
              "stanza-rekey only one of the old and new passphrases works",
              source, counted.envelope.keyId, counted.envelope.generation);
    }
}

void rememberEnvelope(const crypto::RepoKey& key, const crypto::KeyEnvelope& envelope) {
    std::lock_guard lock(registryMutex());
    registry()[key.id()] = envelope;
}

crypto::KeyEnvelope envelopeForWrite(storage::Storage& repo, const Layout& layout) {
    if (!layout.key) raise(ErrorCode::Assert, "envelopeForWrite without a repository key");
    RepoCipherScan scan = scanRepoCipher(repo, layout);
    if (scan.counted && scan.counted->envelope.keyId == layout.key->id())
        return scan.counted->envelope;
    std::lock_guard lock(registryMutex());
    auto it = registry().find(layout.key->id());
    if (it == registry().end())
        raise(ErrorCode::Crypto, "{}: no key envelope of key {} to write with its info files",
              where(repo, layout), layout.key->id());
    return it->second;
}

std::string sealInfoText(const crypto::KeyEnvelope& envelope, const crypto::RepoKey& key,
                         const std::string& piece, const std::string& text) {
    return envelopeLine(envelope) + crypto::sealText(key, piece, text);
}

std::string sealMetadata(const std::shared_ptr<const crypto::RepoKey>& key,
                         const std::string& piece, std::string text) {
    if (!key) return text;
    return crypto::sealText(*key, piece, text);
}

std::string openMetadata(const std::shared_ptr<const crypto::RepoKey>& key,
                         const std::string& piece, std::string stored, const std::string& context) {
    std::string_view body = bodyOf(stored);
    bool sealed = startsSealed(body);
    if (!key) {
        if (sealed || stored.starts_with(kEnvelopePrefix))
            raise(ErrorCode::Crypto,
                  "'{}' is encrypted: set repo1-cipher-type=aes-256-gcm and repo1-cipher-pass "
                  "(config file or BACKREST_REPO1_CIPHER_PASS)",
                  context);
        return stored;
    }
    if (!sealed)
        raise(ErrorCode::Crypto,
              "'{}' is not encrypted in an encrypted repository: written without the key, or "
              "replaced; restore it from a copy of the repository",
              context);
    return crypto::openText(*key, piece, body, context);
}

uint64_t rekeyRepo(storage::Storage& repo, const Layout& layout, const std::string& currentPass,
                   const std::string& newPass) {
    RepoCipherScan scan = scanRepoCipher(repo, layout);
    if (scan.state != RepoCipherState::Encrypted)
        raise(
            ErrorCode::Crypto, "stanza-rekey: {} is {}: there is no key to re-wrap",
            where(repo, layout),
            scan.state == RepoCipherState::Empty ? "missing (run stanza-create)" : "not encrypted");
    const CountedEnvelope& counted = *scan.counted;
    std::string source = repo.fullPath(counted.path);
    std::shared_ptr<const crypto::RepoKey> key;
    try {
        key = crypto::unwrapKey(counted.envelope, currentPass, source);
    } catch (const Error& e) {
        if (e.code() != ErrorCode::Crypto) throw;
        // An interrupted rekey whose new passphrase already counts: this run finishes it.
        try {
            key = crypto::unwrapKey(counted.envelope, newPass, source);
            logInfo(
                "stanza-rekey: repo1-cipher-pass-new already opens '{}': finishing an interrupted "
                "rekey",
                source);
        } catch (const Error& e2) {
            if (e2.code() != ErrorCode::Crypto) throw;
            raise(
                ErrorCode::Crypto,
                "repo1-cipher-pass does not open the key of '{}' (key {}, generation {}), nor does "
                "repo1-cipher-pass-new: a wrong passphrase, or an envelope altered since it was "
                "written",
                source, counted.envelope.keyId, counted.envelope.generation);
        }
    }
    crypto::KeyEnvelope next = crypto::wrapKey(*key, newPass, counted.highestSeen + 1);
    std::string line = envelopeLine(next);
    for (const std::string& base : {layout.backupInfo(), layout.archiveInfo()}) {
        // The body is kept byte for byte (same key); taken from the first copy that opens.
        std::optional<std::string> body;
        std::optional<Error> firstError;
        for (const std::string& candidate : {base, base + ".copy"}) {
            auto stored = storage::readAllIfExists(repo, candidate);
            if (!stored) continue;
            try {
                std::string text = openMetadata(key, base, *stored, repo.fullPath(candidate));
                verifyChecksummed(text, repo.fullPath(candidate));
                body = std::string(bodyOf(*stored));
                break;
            } catch (const Error& e) {
                warnDamagedCopy(e.what());
                if (!firstError) firstError = e;
            }
        }
        if (!body) {
            if (firstError) throw *firstError;
            raise(ErrorCode::Stanza, "stanza-rekey: {} has no {}; run stanza-create first",
                  where(repo, layout), base);
        }
        storage::writeAll(repo, base + ".copy", line + *body);
        storage::writeAll(repo, base, line + *body);
    }
    return next.generation;
}

}  // namespace backrest::repo
