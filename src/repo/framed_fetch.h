// Restore and verification of a file stored as independent zstd frames (ManifestFile::frames):
// each frame is read with a ranged read and decompressed on its own, so the threads of a
// restore share one large file instead of one thread decompressing all of it. The whole file's
// checksum is still checked: the frames' bytes pass through it in file order.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "io/buffer.h"
#include "io/file_checksum.h"
#include "repo/codec.h"
#include "repo/file_transfer.h"
#include "repo/frame_order.h"
#include "repo/frame_writer.h"
#include "repo/stored_file_reader.h"
#include "storage/async_close.h"
#include "storage/patch_file.h"
#include "storage/posix.h"
#include "storage/storage.h"

namespace backrest::repo {

// Reads frame k of a stored file and decompresses it into `out`, checking that it is exactly one
// frame holding the bytes the index says. A damaged frame raises ChecksumError naming the file,
// the backup and the frame.
void readFrame(storage::Storage& source, const std::string& sourcePath, const RepoCodec& codec,
               const ExpectedFile& expected, uint64_t frameBytes,
               const std::vector<uint64_t>& frames, size_t k, io::Buffer& compressed,
               io::Buffer& out);

// One file's restore, shared by the jobs that each restore one frame of it. fetch(k) may run on
// any thread; the jobs must be started in frame order (a job waits for the one before it, never
// for a later one). The file's checksum is taken over the frames in file order; once the last
// frame is checksummed the file is verified and closed. After a failure, the file is removed
// when this object is destroyed, which must happen only once every job has returned (the
// destructor waits for the frames still queued on a FrameWriter).
//
// Create mode writes each frame with O_DIRECT into a file whose space is reserved at once (see
// storage::WriteOptions::direct and ::size). With a `writer`, a job only decompresses its frame:
// the FrameWriter's thread writes it, then checksums it when every frame before it has been
// checksummed, or leaves it (in its buffer) to the thread that checksums the one before; a
// checksum that does not match is raised there, and by FrameWriter::finish(). The jobs of a file
// take their buffers in frame order, so a frame left waiting always follows one that holds a
// buffer and is under way: the bounded pool cannot run dry of frames that can finish.
//
// Patch mode (a delta restore over a local copy, of any size): nothing is created; each
// frame's 8 KiB pages are compared with the local file's and only those that differ are
// written (as cmd::patchInPlace does for a file stored as one stream), through storage::PatchFile.
class FramedFetch {
  public:
    enum class Mode { Create, Patch };
    FramedFetch(storage::Storage& source, std::string sourcePath, RepoCodec codec,
                storage::PosixStorage& destination, std::string destinationPath,
                ExpectedFile expected, uint64_t frameBytes, std::vector<uint64_t> frames,
                storage::AsyncCloser* closer, Mode mode = Mode::Create,
                FrameWriter* writer = nullptr);
    ~FramedFetch();
    size_t frameCount() const { return frames_.size(); }
    void fetch(size_t k);
    uint64_t pagesWritten() const { return pagesWritten_; }  // Patch mode
    // Whether each frame needs one of the FrameWriter's buffers.
    bool writesBehind() const { return writer_ != nullptr; }

  private:
    void openOnce();  // the first job creates (or opens) the file and the checksum
    void fetchOne(size_t k, io::Buffer& compressed, io::Buffer& threadRaw);
    void fetchBehind(size_t k, io::Buffer& compressed);  // with a writer
    void patchFrame(size_t k, const io::Buffer& raw);
    void countFrame();  // under mutex_; verifies the file after the last frame
    void closeFile();   // under mutex_, once every frame is checksummed and written
    // On the FrameWriter's thread: frame k is written (or its write failed).
    void written(size_t k, std::unique_ptr<io::Buffer>& raw, std::exception_ptr error);

    storage::Storage& source_;
    std::string sourcePath_;
    RepoCodec codec_;
    storage::PosixStorage& destination_;
    std::string destinationPath_;
    ExpectedFile expected_;
    uint64_t frameBytes_;
    std::vector<uint64_t> frames_;
    storage::AsyncCloser* closer_;
    Mode mode_;
    FrameWriter* writer_;
    size_t writesPending_ = 0;  // frames handed to writer_ whose written() has not returned
    bool verified_ = false;     // every frame checksummed, and the file's checksum matched
    size_t nextToTake_ = 0;     // with writer_: the frame whose job takes a buffer next
    std::unique_ptr<storage::PatchFile> patch_;
    std::atomic<uint64_t> pagesWritten_{0};
    bool patchedSizeChanged_ = false;  // the local copy had another size: truncated or extended

    std::mutex mutex_;
    std::condition_variable turn_;
    std::exception_ptr failure_;
    std::unique_ptr<storage::StorageWrite> out_;
    // Under mutex_; frames written behind wait in it for their turn (parked).
    std::unique_ptr<FrameOrder> order_;
};

}  // namespace backrest::repo
