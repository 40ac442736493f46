// Host key checking with libssh2's known-hosts support (the OpenSSH file format, hashed names and
// "[host]:port" entries included), as ssh's StrictHostKeyChecking does.
#include "storage/sftp/sftp_host_key.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "common/error.h"
#include "common/log.h"

namespace backrest::storage::sftp {

namespace {

using KnownHosts = std::unique_ptr<LIBSSH2_KNOWNHOSTS, decltype(&libssh2_knownhost_free)>;

std::vector<std::string> knownHostFiles(const SftpSettings& s) {
    if (!s.knownHosts.empty()) return s.knownHosts;
    const char* home = std::getenv("HOME");
    std::string h = home != nullptr ? home : "";
    return {h + "/.ssh/known_hosts", h + "/.ssh/known_hosts2", "/etc/ssh/ssh_known_hosts",
            "/etc/ssh/ssh_known_hosts2"};
}

int knownHostKeyType(int hostKeyType) {
    switch (hostKeyType) {
        case LIBSSH2_HOSTKEY_TYPE_RSA:
            return LIBSSH2_KNOWNHOST_KEY_SSHRSA;
        case LIBSSH2_HOSTKEY_TYPE_DSS:
            return LIBSSH2_KNOWNHOST_KEY_SSHDSS;
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_256:
            return LIBSSH2_KNOWNHOST_KEY_ECDSA_256;
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_384:
            return LIBSSH2_KNOWNHOST_KEY_ECDSA_384;
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_521:
            return LIBSSH2_KNOWNHOST_KEY_ECDSA_521;
        case LIBSSH2_HOSTKEY_TYPE_ED25519:
            return LIBSSH2_KNOWNHOST_KEY_ED25519;
        default:
            return LIBSSH2_KNOWNHOST_KEY_UNKNOWN;
    }
}

std::string hex(const unsigned char* bytes, size_t n) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (size_t i = 0; i < n; i++) {
        out += digits[bytes[i] >> 4];
        out += digits[bytes[i] & 15];
    }
    return out;
}

// Lower case, without the colons of "aa:bb:..." as ssh-keygen -l -E md5 prints them.
std::string normalizeFingerprint(std::string f) {
    f.erase(std::remove(f.begin(), f.end(), ':'), f.end());
    std::transform(f.begin(), f.end(), f.begin(), [](unsigned char c) { return std::tolower(c); });
    return f;
}

void checkFingerprint(LIBSSH2_SESSION* session, const SftpSettings& s, const std::string& where) {
    int type = 0;
    size_t length = 0;
    if (s.hostKeyHashType == "md5")
        type = LIBSSH2_HOSTKEY_HASH_MD5, length = 16;
    else if (s.hostKeyHashType == "sha1")
        type = LIBSSH2_HOSTKEY_HASH_SHA1, length = 20;
    else if (s.hostKeyHashType == "sha256")
        type = LIBSSH2_HOSTKEY_HASH_SHA256, length = 32;
    else
        raise(ErrorCode::Option,
              "option 'repo1-sftp-host-key-hash-type' must be md5, sha1 or sha256 with "
              "repo1-sftp-host-key-check-type=fingerprint, not '{}'",
              s.hostKeyHashType);
    const char* hash = libssh2_hostkey_hash(session, type);
    if (hash == nullptr)
        raise(ErrorCode::Network, "SFTP server {}: no host key hash available", where);
    std::string actual = hex(reinterpret_cast<const unsigned char*>(hash), length);
    if (actual != normalizeFingerprint(s.hostFingerprint))
        raise(ErrorCode::RepoAuth,
              "SFTP server {}: its host key's {} fingerprint is {}, not "
              "repo1-sftp-host-fingerprint {}: "
              "the host may be impersonated; if its key was changed on purpose, set the new "
              "fingerprint",
              where, s.hostKeyHashType, actual, s.hostFingerprint);
}

// accept-new: a host seen the first time is added to the first known_hosts file.
void addHost(LIBSSH2_KNOWNHOSTS* hosts, const SftpSettings& s, const std::string& file,
             const char* key, size_t keyLength, int keyType, const std::string& where) {
    std::string name = s.port == 22 ? s.host : fmt::format("[{}]:{}", s.host, s.port);
    if (libssh2_knownhost_addc(
            hosts, name.c_str(), nullptr, key, keyLength, nullptr, 0,
            LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | keyType, nullptr) != 0 ||
        libssh2_knownhost_writefile(hosts, file.c_str(), LIBSSH2_KNOWNHOST_FILE_OPENSSH) != 0)
        raise(ErrorCode::FileWrite,
              "SFTP server {}: cannot add its host key to known hosts file {} "
              "(repo1-sftp-host-key-check-type=accept-new): check the file and its directory are "
              "writable",
              where, file);
    logWarn(
        "SFTP server {}: host key added to {} (first connection, "
        "repo1-sftp-host-key-check-type=accept-new)",
        where, file);
}

}  // namespace

void checkHostKey(LIBSSH2_SESSION* session, const SftpSettings& s) {
    std::string where = fmt::format("{}:{}", s.host, s.port);
    if (s.hostKeyCheck == HostKeyCheck::None) return;
    if (s.hostKeyCheck == HostKeyCheck::Fingerprint) return checkFingerprint(session, s, where);

    size_t keyLength = 0;
    int hostKeyType = 0;
    const char* key = libssh2_session_hostkey(session, &keyLength, &hostKeyType);
    if (key == nullptr)
        raise(ErrorCode::Network, "SFTP server {}: it presented no host key", where);
    int keyType = knownHostKeyType(hostKeyType);

    KnownHosts hosts(libssh2_knownhost_init(session), &libssh2_knownhost_free);
    if (!hosts) raise(ErrorCode::Assert, "SFTP: cannot allocate the known hosts list");
    auto files = knownHostFiles(s);
    std::string fileList;
    for (const auto& file : files) {
        fileList += (fileList.empty() ? "" : ", ") + file;
        if (::access(file.c_str(), F_OK) != 0) continue;
        if (libssh2_knownhost_readfile(hosts.get(), file.c_str(), LIBSSH2_KNOWNHOST_FILE_OPENSSH) <
            0)
            raise(ErrorCode::FileRead, "SFTP server {}: cannot read known hosts file {}: {}", where,
                  file, "check it is readable by this user and in OpenSSH's format");
    }

    int check = libssh2_knownhost_checkp(
        hosts.get(), s.host.c_str(), s.port, key, keyLength,
        LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | keyType, nullptr);
    if (check == LIBSSH2_KNOWNHOST_CHECK_MATCH) return;
    if (check == LIBSSH2_KNOWNHOST_CHECK_MISMATCH)
        raise(ErrorCode::RepoAuth,
              "SFTP server {}: its host key differs from the one recorded in the known hosts files "
              "({}): the "
              "host may be impersonated; if its key was changed on purpose, remove the old entry "
              "(ssh-keygen -R '[{}]:{}') and add the new one",
              where, fileList, s.host, s.port);
    if (check == LIBSSH2_KNOWNHOST_CHECK_NOTFOUND && s.hostKeyCheck == HostKeyCheck::AcceptNew)
        return addHost(hosts.get(), s, files.front(), key, keyLength, keyType, where);
    raise(ErrorCode::RepoAuth,
          "SFTP server {}: its host key is not in the known hosts files ({}) and "
          "repo1-sftp-host-key-check-type is strict: add it (ssh-keyscan -p {} {} >> <file>, after "
          "checking "
          "its fingerprint with the server's administrator), or name the file with "
          "repo1-sftp-known-host",
          where, fileList, s.port, s.host);
}

}  // namespace backrest::storage::sftp
