// A small manifest of one file, for the unit tests that save, copy or load manifests.
#pragma once

#include <string>

#include "repo/manifest.h"

namespace backrest::test {

inline repo::Manifest smallManifest(const std::string& label = "20261121-235959F") {
    repo::Manifest m;
    m.label = label;
    m.pgVersion = "15";
    m.systemId = 7300000000000000001ULL;
    m.walSegmentSize = 16 * 1024 * 1024;
    repo::ManifestFile f;
    f.name = "pg_data/base/16384/16385";
    f.size = 1 << 20;
    f.repoSize = 5000;
    f.checksum = std::string(32, 'a');
    m.files = {f};
    return m;
}

}  // namespace backrest::test
