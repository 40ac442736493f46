// Writes a restore's decompressed frames behind the threads that decompress them. A frame
// written with O_DIRECT (storage::WriteOptions::direct) keeps its thread waiting for the disk;
// handed to this writer, the thread decompresses the next frame meanwhile, as `zstd -d` overlaps
// its own writes with decompression on an I/O thread. A fixed pool of frame buffers bounds the
// memory: a thread that finds none free waits for a write to finish.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "common/background_queue.h"
#include "io/buffer.h"
#include "storage/storage.h"

namespace backrest::repo {

class FrameWriter {
  public:
    // `buffers`: frames decompressed and waiting to be written, at most (and so the memory:
    // buffers x the frame size). `threads`: writing threads.
    FrameWriter(size_t buffers, size_t threads = 1);
    // Without finish(): waits for the queued writes (they refer to files their owners still
    // hold), then stops. An error path is unwinding; its files are removed by their owners.
    ~FrameWriter();
    FrameWriter(const FrameWriter&) = delete;
    FrameWriter& operator=(const FrameWriter&) = delete;

    // An empty buffer for the next frame; waits while all of them are in use.
    std::unique_ptr<io::Buffer> take();
    // Whether take() would return at once (a hint: another thread may take the buffer first).
    bool hasFreeBuffer();
    // Gives back a buffer taken from the pool: one that will not be written (its frame failed),
    // or one a done callback kept.
    void giveBack(std::unique_ptr<io::Buffer> buffer);
    // Called on the writing thread once a frame is written, with its buffer and nullptr or the
    // write's error. The buffer goes back to the pool when it returns, unless the callback moved
    // it out (to read it later: it must give it back then). An exception it throws counts as a
    // failed write.
    using Done = std::function<void(std::unique_ptr<io::Buffer>& bytes, std::exception_ptr error)>;
    // Queues out.writeAt(offset, *bytes), then done. `out` must outlive the call of done.
    // Raises the first failure of an earlier write (done is then not called), so a failing disk
    // stops the restore early.
    void write(storage::StorageWrite& out, uint64_t offset, std::unique_ptr<io::Buffer> bytes,
               Done done);
    // Waits until every queued write is done; rethrows the first failure.
    void finish();

  private:
    struct Pending {
        storage::StorageWrite* out;
        uint64_t offset;
        std::unique_ptr<io::Buffer> bytes;
        Done done;
    };
    void writeOne(Pending& item);

    std::mutex mutex_;  // guards free_
    std::condition_variable bufferFree_;
    std::vector<std::unique_ptr<io::Buffer>> free_;
    BackgroundQueue<Pending> queue_;  // last: its threads use the pool above until it is gone
};

}  // namespace backrest::repo
