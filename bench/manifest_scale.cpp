// The manifest at scale: builds a synthetic manifest of N files (default one million), saves it
// to a temporary repository and loads it back, printing the time of each step and the peak
// memory of the process. Target (issue 4): one million files in under 10 s and 1 GB.
#include <fmt/format.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "repo/manifest.h"
#include "storage/posix.h"

using namespace backrest;

namespace {
double seconds(std::chrono::steady_clock::time_point since) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}
long peakRssMb() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss / 1024;
}
}  // namespace

int main(int argc, char** argv) {
    size_t count = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
    auto dir = std::filesystem::temp_directory_path() /
               fmt::format("backrest-manifest-scale-{}", getpid());
    std::filesystem::create_directories(dir);
    storage::PosixStorage repoStorage(dir.string());
    storage::Storage& repo = repoStorage;

    auto start = std::chrono::steady_clock::now();
    repo::Manifest m;
    m.label = "20261122-000000F";
    m.lsnStart = "0/2000028";
    m.lsnStop = "0/2000100";
    m.walStart = m.walStop = "000000010000000000000002";
    m.pgVersion = "15";
    m.systemId = 7310000000000000001ULL;
    m.walSegmentSize = 16 * 1024 * 1024;
    m.targets.push_back({"pg_data", "/var/lib/postgresql/15/main", 0, ""});
    m.paths.push_back({"pg_data", 0700, "postgres", "postgres"});
    m.files.reserve(count);
    for (size_t i = 0; i < count; i++) {
        repo::ManifestFile f;
        f.name = fmt::format("pg_data/base/{}/{}", 16384 + i / 10000, 100000 + i);
        f.size = 8192 * (i % 97 + 1);
        f.repoSize = f.size / 7;
        f.mtime = 1795300000 + static_cast<int64_t>(i % 86400);
        f.mode = 0600;
        f.user = f.group = "postgres";
        f.checksum = fmt::format("{:032x}", i * 2654435761ULL);  // XXH3-128 form, the default
        f.pageChecked = true;
        m.files.push_back(std::move(f));
    }
    double built = seconds(start);

    start = std::chrono::steady_clock::now();
    repo::saveManifest(repo, "backup.manifest", m);
    double saved = seconds(start);
    uint64_t bytes = std::filesystem::file_size(dir / "backup.manifest");
    size_t files = m.files.size();
    m = repo::Manifest{};  // only the loaded copy in memory from here

    start = std::chrono::steady_clock::now();
    repo::Manifest loaded = repo::loadManifest(repo, "backup.manifest");
    double load = seconds(start);
    std::filesystem::remove_all(dir);

    bool ok =
        loaded.files.size() == files &&
        loaded.files.back().name ==
            fmt::format("pg_data/base/{}/{}", 16384 + (count - 1) / 10000, 100000 + count - 1);
    fmt::print(
        "manifest-scale: {} files, manifest {:.1f} MiB; build {:.2f} s, save {:.2f} s, load {:.2f} "
        "s; "
        "save+load {:.2f} s; peak RSS {} MiB; {}\n",
        files, bytes / 1048576.0, built, saved, load, saved + load, peakRssMb(),
        ok ? "ok" : "MISMATCH");
    return ok ? 0 : 1;
}
