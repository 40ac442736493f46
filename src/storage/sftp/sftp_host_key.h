// Is the server the one we mean? The host key it presented, checked as
// repo1-sftp-host-key-check-type says, against known_hosts files or a fingerprint.
#pragma once

#include <libssh2.h>

#include "storage/sftp/sftp_settings.h"

namespace backrest::storage::sftp {

// Raises RepoAuthError naming host:port and what to do when the key is unknown (strict), differs
// from the known one, or does not match the fingerprint.
void checkHostKey(LIBSSH2_SESSION* session, const SftpSettings& settings);

}  // namespace backrest::storage::sftp
