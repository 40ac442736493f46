// What the SFTP driver needs to reach its server, read from pgBackRest 2.46's repo1-sftp-*
// options by worker/repo_storage.cpp (drivers never see the configuration; tests build it).
#pragma once

#include <string>
#include <vector>

namespace backrest::storage::sftp {

// repo1-sftp-host-key-check-type.
enum class HostKeyCheck { Strict, AcceptNew, Fingerprint, None };

struct SftpSettings {
    std::string host;
    int port = 22;
    std::string user;
    std::string privateKeyFile;
    std::string publicKeyFile;         // empty: derived from the private key
    std::string privateKeyPassphrase;  // secret: never printed
    // Files of known host keys (OpenSSH format). Empty: ~/.ssh/known_hosts, ~/.ssh/known_hosts2,
    // /etc/ssh/ssh_known_hosts, /etc/ssh/ssh_known_hosts2, as pgBackRest and ssh.
    std::vector<std::string> knownHosts;
    HostKeyCheck hostKeyCheck = HostKeyCheck::Strict;
    std::string hostFingerprint;  // hex, for HostKeyCheck::Fingerprint
    std::string hostKeyHashType;  // md5, sha1 or sha256, for HostKeyCheck::Fingerprint
    std::string root;             // repo1-path on the server: absolute
    // Every blocking step (connect, a request and its answer) gives up after this long, so a
    // server that stops answering is an error and not a hang.
    int timeoutMs = 60000;
};

}  // namespace backrest::storage::sftp
