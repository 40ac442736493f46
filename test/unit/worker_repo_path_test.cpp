// The paths repo-get (and repo-ls) accept: "../" read /etc files through a posix repository and,
// through curl's dot-segment removal, another prefix or bucket of an object store.
#include <gtest/gtest.h>

#include <string>

#include "common/error.h"
#include "worker/repo_path.h"

namespace backrest::cmd {
namespace {

TEST(RepoPath, PathsInsideTheRepositoryPass) {
    for (std::string ok : {"", "archive", "archive/main/archive.info", "backup/main/..x",
                           "archive/main/x..", "./archive", "archive/main/15-1/..history"})
        EXPECT_NO_THROW(requireInsideRepository(ok, ok, "/var/lib/pgbackrest")) << ok;
}

TEST(RepoPath, ADotDotComponentIsRefusedNamingThePathGiven) {
    for (std::string bad :
         {"..", "../outside", "archive/../../etc/passwd", "archive/..", "a/b/../../.."}) {
        try {
            requireInsideRepository(bad, "/repo/" + bad, "/repo");
            ADD_FAILURE() << bad << " was accepted";
        } catch (const Error& e) {
            EXPECT_EQ(e.code(), ErrorCode::Command) << bad;
            EXPECT_EQ(std::string(e.what()), "path '/repo/" + bad +
                                                 "' leaves the repository ('..'): give a path "
                                                 "inside repo1-path '/repo'");
        }
    }
}

}  // namespace
}  // namespace backrest::cmd
