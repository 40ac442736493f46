// The Azure options as a user gives them: the key read from pgBackRest's environment spelling,
// never passed on to a child command (restore_command); a malformed key refused without its value.
#include <gtest/gtest.h>

#include "common/config.h"
#include "common/error.h"
#include "storage/azure/azure_storage.h"

namespace backrest {
namespace {

Config parse(std::vector<std::string> args, std::vector<std::string> env) {
    std::vector<const char*> argv{"backrest"};
    for (const auto& a : args) argv.push_back(a.c_str());
    std::vector<const char*> envp;
    for (const auto& e : env) envp.push_back(e.c_str());
    envp.push_back(nullptr);
    return Config::parse(static_cast<int>(argv.size()), argv.data(), envp.data());
}

TEST(AzureOptions, KeyFromTheEnvironmentIsNotPassedOn) {
    Config config =
        parse({"--stanza=main", "--repo1-type=azure", "--repo1-azure-container=c", "info"},
              {"BACKREST_REPO1_AZURE_KEY=c2VjcmV0LWtleQ==", "BACKREST_REPO1_AZURE_ACCOUNT=acct"});
    EXPECT_EQ(config.getString("repo1-azure-key"), "c2VjcmV0LWtleQ==");
    std::string passed;
    for (const auto& arg : config.passThroughArgs()) passed += arg + " ";
    EXPECT_NE(passed.find("--repo1-azure-account=acct"), std::string::npos) << passed;
    EXPECT_EQ(passed.find("c2VjcmV0LWtleQ=="), std::string::npos) << passed;
}

TEST(AzureOptions, MalformedSharedKeyIsOptionErrorWithoutTheValue) {
    storage::azure::AzureSettings settings;
    settings.account = "acct";
    settings.container = "c";
    settings.key = "not-base64!";
    try {
        storage::azure::AzureStorage storage(settings);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::Option);
        EXPECT_NE(std::string(e.what()).find("'repo1-azure-key'"), std::string::npos) << e.what();
        EXPECT_EQ(std::string(e.what()).find("not-base64!"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace backrest
