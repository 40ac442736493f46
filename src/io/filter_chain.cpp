// Drives blocks through the filter stages to the sink, bounding each stage's scratch memory.
#include "io/filter_chain.h"

#include "common/error.h"

namespace backrest::io {

namespace {

// Output a transformer may accumulate before it is handed on: about one block, so a chain's
// memory stays a few MiB whatever the file size or compression ratio.
constexpr size_t kStageOutputLimit = size_t{1} << 20;

}  // namespace

FilterChain::FilterChain(Sink sink) : sink_(std::move(sink)) {}

void FilterChain::push(std::unique_ptr<Filter> filter) {
    if (!filter) return;
    if (finished_) raise(ErrorCode::Assert, "filter added to a finished chain");
    filters_.push_back(std::move(filter));
    // Observers never write to theirs; an unallocated Buffer costs nothing.
    outputs_.emplace_back();
}

void FilterChain::write(std::span<const uint8_t> in) {
    if (finished_) raise(ErrorCode::Assert, "write to a filter chain after finish()");
    if (in.empty()) return;
    run(0, in, false);
}

std::span<uint8_t> FilterChain::inputSpace() {
    if (finished_) return {};
    for (auto& filter : filters_)
        if (filter->transforms()) return filter->inputSpace();
    return {};
}

void FilterChain::commitInput(size_t n) {
    if (finished_) raise(ErrorCode::Assert, "write to a filter chain after finish()");
    size_t stage = 0;
    while (stage < filters_.size() && !filters_[stage]->transforms()) stage++;
    if (stage == filters_.size())
        raise(ErrorCode::Assert, "commitInput on a chain without a transformer");
    std::span<uint8_t> space = filters_[stage]->inputSpace();
    if (n == 0) return;
    if (n > space.size())
        raise(ErrorCode::Assert, "commitInput of {} bytes into {} of space", n, space.size());
    std::span<const uint8_t> in(space.data(), n);
    for (size_t i = 0; i < stage; i++) filters_[i]->process(in, outputs_[i]);
    Buffer& out = outputs_[stage];
    out.clear();
    filters_[stage]->commitInput(n, out);
    if (!out.empty()) {
        run(stage + 1, out.span(), false);
        out.clear();
    }
}

void FilterChain::finish() {
    if (finished_) raise(ErrorCode::Assert, "filter chain finished twice");
    finished_ = true;
    run(0, {}, true);
}

// `finishing` means `in` is the last input this stage will get: after it, the stage is
// finished and its final output (flowing on with `finishing` set) is the last for the next.
void FilterChain::run(size_t stage, std::span<const uint8_t> in, bool finishing) {
    // Observers pass the very same span on: no copy.
    for (; stage < filters_.size() && !filters_[stage]->transforms(); ++stage) {
        Filter& observer = *filters_[stage];
        if (!in.empty()) observer.process(in, outputs_[stage]);
        if (finishing) observer.finish(outputs_[stage]);
    }
    if (stage == filters_.size()) {
        if (!in.empty()) sink_(in);
        return;
    }

    Filter& filter = *filters_[stage];
    Buffer& out = outputs_[stage];
    // Stale bytes may remain if a later stage threw on the previous block.
    out.clear();
    bool pending = false;
    while (!in.empty() || pending) {
        size_t used = filter.processSome(in, out, kStageOutputLimit);
        if (used > in.size()) {
            raise(ErrorCode::Assert, "filter consumed {} of {} bytes", used, in.size());
        }
        in = in.subspan(used);
        pending = out.size() >= kStageOutputLimit;
        if (used == 0 && out.empty() && !in.empty()) {
            raise(ErrorCode::Assert, "filter made no progress on {} bytes", in.size());
        }
        if (!out.empty()) {
            run(stage + 1, out.span(), false);
            out.clear();
        }
    }
    if (finishing) {
        filter.finish(out);
        run(stage + 1, out.span(), true);
        out.clear();
    }
}

}  // namespace backrest::io
