// The repository path a DBA gives repo-get or repo-ls: it must stay inside the repository.
#pragma once

#include <string>

namespace backrest::cmd {

// Refuses (CommandError) a repository-relative path with a ".." component: on posix it reads
// outside repo1-path, and on an object store curl resolves it into another prefix or bucket.
// `given` is the path as typed, for the message.
void requireInsideRepository(const std::string& relative, const std::string& given,
                             const std::string& repoRoot);

}  // namespace backrest::cmd
