// The repository path a DBA gives repo-get or repo-ls: it must stay inside the repository.
#include "worker/repo_path.h"

#include <string_view>

#include "common/error.h"

namespace backrest::cmd {

void requireInsideRepository(const std::string& relative, const std::string& given,
                             const std::string& repoRoot) {
    std::string_view rest = relative;
    while (!rest.empty()) {
        size_t slash = rest.find('/');
        if (rest.substr(0, slash) == "..")
            raise(ErrorCode::Command,
                  "path '{}' leaves the repository ('..'): give a path inside repo1-path '{}'",
                  given, repoRoot);
        if (slash == std::string_view::npos) break;
        rest.remove_prefix(slash + 1);
    }
}

}  // namespace backrest::cmd
