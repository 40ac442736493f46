// Every command of the backrest binary; each lives in its own file and returns the exit code.
#pragma once

#include "common/config.h"

namespace backrest::cmd {

int stanzaCreate(const Config& config);
int stanzaRekey(const Config& config);
int check(const Config& config);
int backup(const Config& config);
// backup --repo=all: one run into every configured repository (worker/backup_all.cpp).
int backupAllRepos(const Config& config);
int restore(const Config& config, const std::string& fallbackNote = {});
int drill(const Config& config);
int archivePush(const Config& config);
int archiveGet(const Config& config);
int info(const Config& config);
int expire(const Config& config);
int verify(const Config& config);
int serve(const Config& config);
int annotate(const Config& config);
int help(const Config& config);
int version(const Config& config);
int repoLs(const Config& config);
int repoGet(const Config& config);
int stop(const Config& config);
int start(const Config& config);
int stanzaDelete(const Config& config);
int stanzaUpgrade(const Config& config);
int metrics(const Config& config);

}  // namespace backrest::cmd
