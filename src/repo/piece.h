// The piece a stored file's bytes are sealed as (repo/codec.h): the repository path the file
// would have alone, without its compression extension. Computed here, in one place, by the code
// that writes a file and by every path that reads it back (restore, delta, verify, resume,
// block-incremental holders, archive-get, WAL continuity), so that both sides agree.
#pragma once

#include <string>
#include <string_view>

#include "io/compress.h"
#include "repo/layout.h"

namespace backrest::repo {

// A backup file by its manifest name, bundled or not: the label is the backup that stored the
// bytes (a block frame's: the backup holding that block).
inline std::string backupFilePiece(const Layout& layout, std::string_view label,
                                   std::string_view name) {
    return layout.backupFile(label, name, "");
}

// A stored WAL file (segment, .partial, .backup or .history) by its repository path
// ("…/<segment>-<sha256>.zst", ".lz4"): the path without the compression extension.
inline std::string walPiece(std::string_view storedPath) {
    return std::string(io::withoutCompressExtension(storedPath));
}

}  // namespace backrest::repo
