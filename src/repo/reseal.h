// Stored bytes of one piece made those of another without decompressing them: each sealed unit
// (crypto/sealed.h) is found by its chunk headers, opened for the old piece and sealed again for
// the new one at the same index, so a framed file's frame sizes stay what its manifest records
// (a unit's sealed size depends only on its plaintext's). A resumed backup's files (written under
// the interrupted backup's label) become its new label's this way.
#pragma once

#include <memory>
#include <string>

#include "crypto/repo_key.h"
#include "io/filter.h"

namespace backrest::repo {

// CryptoError naming `context` (and the unit) when a unit does not open as `fromPiece`'s, or the
// input ends inside a unit.
std::unique_ptr<io::Filter> makeResealFilter(std::shared_ptr<const crypto::RepoKey> key, std::string fromPiece,
                                             std::string toPiece, std::string context);

}  // namespace backrest::repo
