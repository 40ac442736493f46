// Whose turn it is among the frames of a file stored as frames (repo/framed_fetch.h): restore and
// verify read, decode and write the frames on several threads in any order, but the whole file's
// checksum is taken over their bytes in file order. One class for both, so the two agree on
// which frame is next, keep a frame that finished early until its turn, and name a frame that
// never came.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "io/buffer.h"
#include "io/file_checksum.h"
#include "repo/stored_file_reader.h"

namespace backrest::repo {

// Not locked: its owner calls it under the one lock that guards the file's other state (whether
// it failed, its writes, its close), and waits on its own condition for isTurn(k). A second lock
// here would split a decision the owner takes at once (the last frame's turn, then the close).
//
// Two ways to take a turn. A thread that holds its frame's bytes waits for isTurn(k) and add()s
// them (verify, and restore without a FrameWriter). A frame done before its turn is park()ed with
// its buffer instead, and whichever thread finds the next frame parked takes the turn
// (takeTurn()), checksums it with addTaken() (outside the owner's lock if it likes: isTurn is
// false meanwhile) and passes the turn on (passTurn()), as restore's writing threads do.
class FrameOrder {
  public:
    // `what` names the file in errors: "file 'base/1/2' of backup 20260101-000000F".
    FrameOrder(size_t frameCount, io::ChecksumType type, std::string what);

    size_t frameCount() const { return count_; }
    // Every frame before k is checksummed and no thread holds the turn: frame k may be added.
    bool isTurn(size_t k) const { return !taken_ && next_ == k; }
    // Every frame is checksummed: finish() may be called.
    bool complete() const { return next_ == count_; }

    // Frame k's original bytes, on its turn: checksummed, and the turn passes to the next frame.
    // Out of its turn (a bug of the owner's): AssertError naming the frame.
    void add(size_t k, std::span<const uint8_t> raw);

    // Frame k, done before its turn, to be checksummed in its turn. Out of range, or handed over
    // twice (added, taken or parked already): AssertError naming the frame.
    void park(size_t k, std::unique_ptr<io::Buffer> raw);
    // The parked frame whose turn it is, taken with the turn; nullptr when it is not parked yet
    // or a thread holds the turn.
    std::unique_ptr<io::Buffer> takeTurn();
    // By the thread that took the turn: the taken frame's bytes.
    void addTaken(std::span<const uint8_t> raw);
    // By the thread that took the turn, once addTaken() returned: the turn passes to the next.
    void passTurn();
    bool hasParked() const { return !parked_.empty(); }
    // After a failure: the parked frames' buffers, to give back (none is checksummed now).
    std::vector<std::unique_ptr<io::Buffer>> dropParked();

    // After the last frame: the file's size and checksum, with Mismatch when they are not
    // `expected`. Before it, or a second time: AssertError naming the first frame missing.
    StoredRead finish(const StoredExpectation& expected);

  private:
    [[noreturn]] void raiseFrame(size_t k, const char* problem) const;

    size_t count_;
    std::string what_;
    FrameOrderChecksum sum_;
    size_t next_ = 0;     // the frame to checksum next
    bool taken_ = false;  // a thread took the turn from the parked frames and is checksumming
    bool finished_ = false;
    std::map<size_t, std::unique_ptr<io::Buffer>> parked_;
};

}  // namespace backrest::repo
