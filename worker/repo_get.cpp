// repo-get: a repository file's bytes on stdout, as pgBackRest's: opened (decrypted) when sealed
// and not --raw, never decompressed (a .zst or .lz4 file comes out compressed, as pgBackRest's
// .gz does). Info files keep their stored form: an envelope line then the sealed text
// (repo_cipher.h). A timeline history file is found by the name repo-ls lists it under too
// (repo_ls.h).
#include <cstdio>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "common/error.h"
#include "crypto/sealed.h"
#include "io/buffer.h"
#include "io/compress.h"
#include "io/filter_chain.h"
#include "repo/wal_archive.h"
#include "worker/commands.h"
#include "worker/context.h"
#include "worker/repo_ls.h"
#include "worker/repo_path.h"

namespace backrest::cmd {

namespace {

// archive/<stanza>/... or backup/<stanza>/...: the stanza whose key seals the file.
std::optional<std::string> stanzaOfPath(const std::string& path) {
    size_t first = path.find('/');
    if (first == std::string::npos) return std::nullopt;
    std::string top = path.substr(0, first);
    size_t second = path.find('/', first + 1);
    if ((top != "archive" && top != "backup") || second == std::string::npos) return std::nullopt;
    return path.substr(first + 1, second - first - 1);
}

// What the file's bytes were sealed as (repo/codec.h): its path without ".copy" and without the
// compression extension.
std::string pieceOfPath(std::string path) {
    if (path.ends_with(".copy")) path.resize(path.size() - 5);
    return std::string(io::withoutCompressExtension(path));
}

// A timeline history file named as repo-ls names it (<tl>.history, repo_ls.h): the path it is
// stored under (<tl>.history-<sha256>), when the given path is not itself a stored file.
std::string storedPath(storage::Storage& repo, const std::string& path) {
    static const std::regex historyName("^archive/([^/]+)/([^/]+)/([0-9A-F]{8}\\.history)$");
    std::smatch match;
    if (!std::regex_match(path, match, historyName) || repo.info(path)) return path;
    auto found =
        repo::findWal(repo, repo::Layout{.stanza = match[1].str()}, match[2].str(), match[3].str());
    return found ? found->path : path;
}

void writeOut(std::span<const uint8_t> bytes) {
    if (std::fwrite(bytes.data(), 1, bytes.size(), stdout) != bytes.size())
        raise(ErrorCode::FileWrite, "repo-get: unable to write to stdout");
}

}  // namespace

int repoGet(const Config& config) {
    if (config.params().size() != 1) raise(ErrorCode::Command, "repo-get: source file required");
    std::string path = repoRelativePath(config.params()[0], config.getString(opt::repo1Path));
    requireInsideRepository(path, config.params()[0], config.getString(opt::repo1Path));
    auto stanza = stanzaOfPath(path);
    if (stanza && config.find(opt::stanza) && *config.find(opt::stanza) != *stanza)
        raise(ErrorCode::Option, "stanza name '{}' given in option doesn't match the given path",
              *config.find(opt::stanza));

    auto repo = openRepoStorage(config, RepoAccess::Read);
    path = storedPath(*repo, path);
    auto in = repo->openRead(path, config.getBool(opt::ignoreMissing));
    if (!in) return 1;

    io::Buffer buffer(1 << 20);
    size_t n = in->read({buffer.data(), buffer.capacity()});
    bool open = !config.getBool(opt::raw) && n >= 4 && crypto::looksSealed({buffer.data(), n}) &&
                config.getString(opt::repo1CipherType) != "none";
    io::FilterChain chain(writeOut);
    if (open) {
        if (!stanza)
            raise(ErrorCode::Crypto,
                  "repo-get: '{}' is sealed but not under archive/<stanza> or backup/<stanza>; "
                  "use --raw for its stored bytes",
                  repo->fullPath(path));
        chain.push(crypto::makeOpenFilter(openStanzaKey(config, *repo, *stanza), pieceOfPath(path),
                                          repo->fullPath(path)));
    }
    for (; n > 0; n = in->read({buffer.data(), buffer.capacity()})) chain.write({buffer.data(), n});
    chain.finish();
    std::fflush(stdout);
    return 0;
}

}  // namespace backrest::cmd
