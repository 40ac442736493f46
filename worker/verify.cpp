// verify: reads back everything a stanza stores — every file its backups hold and every archived
// WAL file — through the decompress/checksum chain restore uses, checks that each backup has the
// WAL it needs, and reports each problem by backup, file and segment. It modifies nothing.
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <memory>

#include "common/error.h"
#include "common/parallel.h"
#include "worker/commands.h"
#include "worker/context.h"
#include "worker/verify_read.h"
#include "worker/verify_stanza.h"

namespace backrest::cmd {

StanzaVerify::StanzaVerify(const Config& config)
    : repo_(openRepo(config)),
      layout_(stanzaLayout(config)),
      readers_(config, layout_),
      set_(config.find(opt::set)),
      bufferSize_(transferOptions(config).bufferSize),
      processMax_(static_cast<size_t>(config.getInt(opt::processMax))) {}

void StanzaVerify::run() {
    loadInfo();
    for (auto& r : backups_) planBackup(r);
    for (const auto& id : archiveIds_) scanArchive(id);
    readBackAll();
    reportFiles();
    for (auto& r : backups_) checkWalNeeded(r);
    for (const auto& id : archiveIds_) reportGaps(id);
}

// The largest stored files first. A file stored as frames is read back frame by frame, one job per
// frame (largest files first all the same, a file's frames in order).
void StanzaVerify::readBackAll() {
    std::vector<size_t> order(checks_.size());
    for (size_t i = 0; i < order.size(); i++) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return checks_[a].order > checks_[b].order; });
    struct Job {
        size_t check;
        size_t frame;
        FramedReadBack* framed;
    };
    std::vector<Job> jobs;
    std::vector<std::unique_ptr<FramedReadBack>> framed;
    for (size_t i : order) {
        if (!FramedReadBack::applies(checks_[i])) {
            jobs.push_back({i, 0, nullptr});
            continue;
        }
        framed.push_back(std::make_unique<FramedReadBack>(*repo_, checks_[i]));
        for (size_t k = 0; k < framed.back()->frameCount(); k++)
            jobs.push_back({i, k, framed.back().get()});
    }
    runParallel(processMax_, jobs.size(), [&](size_t j) {
        const Job& job = jobs[j];
        ReadCheck& check = checks_[job.check];
        if (job.framed)
            job.framed->read(job.frame);
        else if (check.blockSize != 0)
            readBackBlocks(*repo_, layout_, check, bufferSize_);
        else
            readBack(*repo_, check, bufferSize_);
    });
}

int verify(const Config& config) {
    if (!config.params().empty())
        raise(ErrorCode::Command,
              "verify takes no parameters, got '{}'; use --set=LABEL to verify one backup",
              config.params().front());
    StanzaVerify verify(config);
    verify.run();
    if (config.getString(opt::output) == "json")
        fmt::print("{}\n", verify.toJson().dump());
    else
        verify.printText();
    std::fflush(stdout);
    if (size_t n = verify.problems())
        raise(ErrorCode::Checksum, "verify: {} problem{} found in stanza '{}'", n,
              n == 1 ? "" : "s", verify.stanza());
    return 0;
}

}  // namespace backrest::cmd
