// Whose turn it is among a framed file's frames, and its checksum taken in that order.
#include "repo/frame_order.h"

#include "common/error.h"

namespace backrest::repo {

FrameOrder::FrameOrder(size_t frameCount, io::ChecksumType type, std::string what)
    : count_(frameCount), what_(std::move(what)), sum_(type) {}

void FrameOrder::raiseFrame(size_t k, const char* problem) const {
    raise(ErrorCode::Assert, "{}: frame {} of {} {}", what_, k, count_, problem);
}

void FrameOrder::add(size_t k, std::span<const uint8_t> raw) {
    if (!isTurn(k)) raiseFrame(k, "was checksummed out of its turn");
    sum_.add(raw);
    next_++;
}

void FrameOrder::park(size_t k, std::unique_ptr<io::Buffer> raw) {
    if (k >= count_) raiseFrame(k, "does not exist");
    // Checksummed, being checksummed, or waiting already.
    if (k < next_ || (taken_ && k == next_) || parked_.count(k))
        raiseFrame(k, "was handed over twice");
    parked_.emplace(k, std::move(raw));
}

std::unique_ptr<io::Buffer> FrameOrder::takeTurn() {
    if (taken_ || parked_.empty() || parked_.begin()->first != next_) return nullptr;
    auto raw = std::move(parked_.begin()->second);
    parked_.erase(parked_.begin());
    taken_ = true;
    return raw;
}

void FrameOrder::addTaken(std::span<const uint8_t> raw) {
    if (!taken_) raiseFrame(next_, "was checksummed without its turn taken");
    sum_.add(raw);
}

void FrameOrder::passTurn() {
    if (!taken_) raiseFrame(next_, "passed a turn it did not take");
    taken_ = false;
    next_++;
}

std::vector<std::unique_ptr<io::Buffer>> FrameOrder::dropParked() {
    std::vector<std::unique_ptr<io::Buffer>> buffers;
    for (auto& [frame, buffer] : parked_) buffers.push_back(std::move(buffer));
    parked_.clear();
    return buffers;
}

StoredRead FrameOrder::finish(const StoredExpectation& expected) {
    if (finished_) raise(ErrorCode::Assert, "{}: checksum of its frames taken twice", what_);
    if (!complete()) raiseFrame(next_, "is missing: the file's checksum cannot be taken");
    finished_ = true;
    return sum_.finish(expected);
}

}  // namespace backrest::repo
