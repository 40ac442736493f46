// Repository metadata files (backup.info, archive.info, backup.manifest) are JSON objects whose
// last key is "checksum": the SHA-256 of every byte before it. Each is written twice (<name> and
// <name>.copy); a reader takes the first copy whose checksum holds, so one torn or damaged copy
// loses nothing.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

#include "storage/storage.h"

namespace backrest::repo {

// Serializes `doc` (an object without "checksum") with its checksum appended.
std::string serializeChecksummed(const nlohmann::json& doc);
// Parses and verifies; throws FormatError/ChecksumError naming `context`.
nlohmann::json parseChecksummed(const std::string& text, const std::string& context);

// Writes <path> and <path>.copy, each atomically and durably. The copy is written first so that
// at every instant at least one complete file exists.
void saveChecksummed(storage::Storage& storage, const std::string& path, const nlohmann::json& doc);
// Loads <path>, falling back to <path>.copy; nullopt when neither exists.
std::optional<nlohmann::json> loadChecksummed(storage::Storage& storage, const std::string& path);

}  // namespace backrest::repo
