// Restores a backup's files into their target locations (worker/restore_files.h).
#include "worker/restore_files.h"

#include <algorithm>
#include <memory>
#include <mutex>

#include "common/config.h"
#include "common/error.h"
#include "common/parallel.h"
#include "repo/framed_fetch.h"
#include "repo/piece.h"
#include "worker/context.h"

namespace backrest::cmd {

namespace {

constexpr size_t kClosingThreads = 8;
constexpr size_t kClosingQueue = 128;
constexpr const char* kControlFile = "pg_data/global/pg_control";

}  // namespace

// One piece of work for a restoring thread: a whole file, or one frame of a framed file.
struct FileRestorer::Job {
    size_t file;
    size_t frame;
    repo::FramedFetch* framed;  // nullptr: the whole file
};

// A file stored as frames is restored frame by frame, its frames one job each, so that the
// threads share the largest files. Two queues: frames (largest file first, a file's frames in
// order, since a frame's job waits for the one before it) and whole files (largest first).
// A thread takes a frame while the frame writer has a buffer free, and a whole file while
// every buffer waits for the disk: the small files' decompression and system calls then
// overlap the large files' writes instead of following them.
struct FileRestorer::Jobs {
    std::vector<Job> frames, files;
    std::vector<std::unique_ptr<repo::FramedFetch>> framed;
    std::mutex pickMutex;
    size_t nextFrame = 0, nextFile = 0;

    size_t size() const { return frames.size() + files.size(); }
    Job pick(repo::FrameWriter& frameWriter) {
        std::lock_guard lock(pickMutex);
        bool frameReady = nextFrame < frames.size() &&
                          (nextFile == files.size() || !frames[nextFrame].framed->writesBehind() ||
                           frameWriter.hasFreeBuffer());
        if (frameReady) return frames[nextFrame++];
        return files[nextFile++];
    }
};

FileRestorer::FileRestorer(const Config& config, storage::Storage& repo, const repo::Layout& layout,
                           const repo::BackupInfo& backupInfo, const RestorePlan& backup,
                           const TargetLocations& locations, const DeltaPlan& deltaPlan,
                           RestoreOwner& owner, storage::PosixStorage& root)
    : repo_(repo),
      layout_(layout),
      backupInfo_(backupInfo),
      label_(backup.label),
      manifest_(backup.manifest),
      locations_(locations),
      deltaPlan_(deltaPlan),
      owner_(owner),
      root_(root),
      processMax_(static_cast<size_t>(config.getInt(opt::processMax))),
      control_(backup.manifest.files.size()) {
    const auto& files = manifest_.files;
    for (size_t i = 0; i < files.size(); i++) {
        if (files[i].name == kControlFile)
            control_ = i;
        else if (!deltaPlan_.keep.count(i))
            order_.push_back(i);
    }
    std::sort(order_.begin(), order_.end(),
              [&](size_t a, size_t b) { return files[a].size > files[b].size; });
    options_ = transferOptions(config);
    // A diff/incr backup references files stored by earlier backups, each with its own
    // compression: read each referenced manifest once for it.
    compressOf_[manifest_.label] = io::parseCompressType(manifest_.compressType);
    priorOf_[manifest_.label] = manifest_.prior;
    for (const auto& f : files)
        if (!f.reference.empty()) needBackup(f.reference);
    // The blocks of a block-stored file may be in any backup of the chain.
    if (std::any_of(files.begin(), files.end(), [](const auto& f) { return f.blockSize != 0; }))
        for (std::string p = manifest_.prior; !p.empty(); p = priorOf_.at(p)) needBackup(p);
}

void FileRestorer::needBackup(const std::string& holder) {
    if (compressOf_.count(holder)) return;
    if (!backupInfo_.find(holder))
        raise(ErrorCode::BackupSet,
              "backup {} needs backup {}, which is no longer in the repository", label_, holder);
    auto held = repo::loadManifest(repo_, layout_.manifest(holder), layout_.key);
    compressOf_[holder] = io::parseCompressType(held.compressType);
    priorOf_[holder] = held.prior;
}

std::string FileRestorer::holderOf(const repo::ManifestFile& f) const {
    return f.reference.empty() ? manifest_.label : f.reference;
}

repo::RepoCodec FileRestorer::codecOf(const std::string& holder) const {
    return options_.codec.storedWith(compressOf_.at(holder));
}

repo::ExpectedFile FileRestorer::expectedOf(const repo::ManifestFile& f,
                                            const std::string& holder) const {
    repo::ExpectedFile expected{f.name,     holder, f.size,
                                f.checksum, {},     repo::backupFilePiece(layout_, holder, f.name)};
    expected.write.mode = f.mode;
    expected.write.atomic = false;
    expected.write.syncPath = false;
    expected.write.createPath = false;
    expected.write.mtime = f.mtime;
    return expected;
}

// One whole file: block by block (block-stored, or --delta over a block-stored file), page by
// page over an existing copy (--delta), or written anew.
void FileRestorer::restoreFile(size_t index, storage::AsyncCloser* async) {
    storage::Storage& fs = root_;  // through the interface, for its default arguments
    const auto& f = manifest_.files[index];
    std::string holder = holderOf(f);
    auto expected = expectedOf(f, holder);
    std::string dest = destinationOf(locations_, f.name);
    const repo::RepoCodec codec = codecOf(holder);
    if (deltaPlan_.blocks.count(index)) {
        auto patched =
            repo::patchBlocks(repo_, layout_, compressOf_, root_, dest, expected, processMax_);
        blocksCompared_ += patched.blocksCompared;
        blocksWritten_ += patched.blocksWritten;
        resetModeAndTime(dest, f);
    } else if (f.blockSize != 0)
        repo::fetchBlocks(repo_, layout_, compressOf_, fs, dest, expected, options_.bufferSize,
                          async);
    else if (deltaPlan_.patch.count(index))
        patchInPlace(repo_, repo::storedLocation(layout_, holder, f, codec.extension()), codec,
                     root_, dest, f, holder, expected.piece, options_.bufferSize);
    else
        repo::fetchFile(repo_, repo::storedLocation(layout_, holder, f, codec.extension()), codec,
                        fs, dest, expected, options_.bufferSize, async);
    owner_.apply(dest, f.user, f.group);
}

void FileRestorer::planJobs(Jobs& jobs, storage::AsyncCloser& closer,
                            repo::FrameWriter& frameWriter) {
    for (size_t index : order_) {
        const auto& f = manifest_.files[index];
        std::string holder = holderOf(f);
        if (f.frames.empty() || f.blockSize != 0 || deltaPlan_.blocks.count(index) ||
            !codecOf(holder).hasFrames()) {
            jobs.files.push_back({index, 0, nullptr});
            continue;
        }
        auto expected = expectedOf(f, holder);
        // --delta over a copy of the same size: only the pages that differ are written.
        auto mode = deltaPlan_.patch.count(index) ? repo::FramedFetch::Mode::Patch
                                                  : repo::FramedFetch::Mode::Create;
        jobs.framed.push_back(std::make_unique<repo::FramedFetch>(
            repo_, layout_.backupFile(holder, f.name, codecOf(holder).extension()), codecOf(holder),
            root_, destinationOf(locations_, f.name), std::move(expected), f.frameBytes, f.frames,
            &closer, mode, &frameWriter));
        for (size_t k = 0; k < f.frames.size(); k++)
            jobs.frames.push_back({index, k, jobs.framed.back().get()});
    }
}

// The last frame of a framed file is written: what restoreFile does after a whole file.
void FileRestorer::finishFramed(size_t index) {
    const auto& f = manifest_.files[index];
    if (deltaPlan_.patch.count(index)) resetModeAndTime(destinationOf(locations_, f.name), f);
    owner_.apply(destinationOf(locations_, f.name), f.user, f.group);
}

void FileRestorer::restoreAllButControl() {
    // Closing a restored file waits for its fsync (0.3-1 ms each here, a disk cache flush apiece
    // on ext4 without a journal): a thousand small files kept 2 closing threads busy for most of
    // a restore, and the copying thread waited on their queue. 8 threads and 128 files in the
    // queue: 0.94x wall at process-max 1, 0.90x at 2 (paired runs); 16 threads were no better.
    storage::AsyncCloser closer(kClosingThreads, kClosingQueue);
    Jobs jobs;
    // One writing thread per process-max: at 2, a second O_DIRECT write in flight took 6 % off
    // the wall time (paired runs); at 1 it changed nothing.
    repo::FrameWriter frameWriter(2 * processMax_ + 2, processMax_ + 1);
    planJobs(jobs, closer, frameWriter);
    runParallel(processMax_, jobs.size(), [&](size_t) {
        const Job job = jobs.pick(frameWriter);
        if (!job.framed) return restoreFile(job.file, &closer);
        job.framed->fetch(job.frame);
        if (job.frame + 1 == job.framed->frameCount()) finishFramed(job.file);
    });
    frameWriter.finish();
    closer.finish();
    jobs.framed.clear();
}

void FileRestorer::restoreControl() {
    if (control_ == manifest_.files.size())
        raise(ErrorCode::Format, "backup {} has no global/pg_control: it cannot be restored",
              label_);
    restoreFile(control_, nullptr);
}

}  // namespace backrest::cmd
