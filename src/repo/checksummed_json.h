// Repository metadata files (backup.info, archive.info, backup.manifest) are JSON objects whose
// last key is "checksum": the SHA-256 of every byte before it. Each is written twice (<name> and
// <name>.copy); a reader takes the first copy whose checksum holds, so one torn or damaged copy
// loses nothing.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/error.h"
#include "repo/repo_cipher.h"
#include "storage/storage.h"

namespace backrest::repo {

// Serializes `doc` (an object without "checksum") with its checksum appended.
std::string serializeChecksummed(const nlohmann::json& doc);
// Appends the checksum to `body`: the text of a JSON object without its closing brace (for
// writers that stream a large document, such as the manifest).
std::string sealChecksummed(std::string body);
// Checks the checksum and that nothing follows it; throws FormatError/ChecksumError.
void verifyChecksummed(const std::string& text, const std::string& context);
// Verifies, then parses into a document; throws FormatError/ChecksumError naming `context`.
nlohmann::json parseChecksummed(const std::string& text, const std::string& context);

// Writes <path> and <path>.copy, each atomically and durably. The copy is written first so that
// at every instant at least one complete file exists.
void saveChecksummed(storage::Storage& storage, const std::string& path, const nlohmann::json& doc);
void saveChecksummedText(storage::Storage& storage, const std::string& path,
                         const std::string& text);

// Loads <path>, falling back to <path>.copy, verifying the checksum and parsing with
// parse(text, context); nullopt when neither exists; the first error when neither is good.
// With `key` (an encrypted repository) each copy is opened first (repo/repo_cipher.h), as the
// piece <path>.
template <typename Parse>
auto loadChecksummedAs(storage::Storage& storage, const std::string& path, Parse parse,
                       const std::shared_ptr<const crypto::RepoKey>& key = nullptr)
    -> std::optional<decltype(parse(std::string(), std::string()))>;
std::optional<nlohmann::json> loadChecksummed(
    storage::Storage& storage, const std::string& path,
    const std::shared_ptr<const crypto::RepoKey>& key = nullptr);

// A failed copy is reported and the other one tried.
void warnDamagedCopy(const std::string& message);

template <typename Parse>
auto loadChecksummedAs(storage::Storage& storage, const std::string& path, Parse parse,
                       const std::shared_ptr<const crypto::RepoKey>& key)
    -> std::optional<decltype(parse(std::string(), std::string()))> {
    std::optional<Error> firstError;
    bool any = false;
    for (const std::string& candidate : {path, path + ".copy"}) {
        auto text = storage::readAllIfExists(storage, candidate);
        if (!text) continue;
        any = true;
        try {
            std::string context = storage.fullPath(candidate);
            *text = openMetadata(key, path, std::move(*text), context);
            verifyChecksummed(*text, context);
            return parse(*text, context);
        } catch (const Error& e) {
            warnDamagedCopy(e.what());
            if (!firstError) firstError = e;
        }
    }
    if (!any) return std::nullopt;
    throw *firstError;
}

}  // namespace backrest::repo
