// Unit-by-unit reseal: a unit is held whole (a frame is at most a few MiB sealed), opened, sealed.
#include "repo/reseal.h"

#include <cstring>

#include "common/error.h"
#include "crypto/sealed.h"
#include "io/buffer.h"

namespace backrest::repo {

namespace {

constexpr uint32_t kLastChunkBit = 0x80000000u;

class ResealFilter : public io::Filter {
  public:
    ResealFilter(std::shared_ptr<const crypto::RepoKey> key, std::string fromPiece,
                 std::string toPiece, std::string context)
        : key_(std::move(key)),
          from_(std::move(fromPiece)),
          to_(std::move(toPiece)),
          context_(std::move(context)) {}
    bool transforms() const override { return true; }

    void process(std::span<const uint8_t> in, io::Buffer& out) override {
        while (!in.empty()) {
            size_t take = std::min(in.size(), need());
            unit_.append(in.first(take));
            in = in.subspan(take);
            advance(out);
        }
    }

    void finish(io::Buffer&) override {
        if (!unit_.empty())
            raise(ErrorCode::Crypto,
                  "'{}' ends inside sealed unit {} ({} bytes of it): the stored file is truncated",
                  context_, index_, unit_.size());
    }

  private:
    // Bytes still wanted before the unit's next header (or its end) can be judged.
    size_t need() const {
        if (unit_.size() < crypto::kSealHeaderBytes) return crypto::kSealHeaderBytes - unit_.size();
        if (unit_.size() < chunkAt_ + 4) return chunkAt_ + 4 - unit_.size();
        return chunkEnd() - unit_.size();
    }
    uint32_t chunkHeader() const {
        uint32_t v;
        std::memcpy(&v, unit_.data() + chunkAt_, 4);
        // The format is little-endian (crypto/sealed.h); so is every host this builds on.
        return v;
    }
    size_t chunkEnd() const {
        return chunkAt_ + crypto::kSealChunkOverhead + (chunkHeader() & ~kLastChunkBit);
    }

    void advance(io::Buffer& out) {
        if (chunkAt_ == 0) {
            // An input buffer may end inside a unit's header: its magic is no chunk header.
            if (unit_.size() < crypto::kSealHeaderBytes) return;
            if (!crypto::looksSealed(unit_.span()))
                raise(ErrorCode::Crypto,
                      "'{}' is not sealed where unit {} should start: the stored file is damaged "
                      "or not "
                      "encrypted with this repository's key",
                      context_, index_);
            chunkAt_ = crypto::kSealHeaderBytes;
            return;
        }
        if (unit_.size() < chunkAt_ + 4) return;
        if ((chunkHeader() & ~kLastChunkBit) > crypto::kSealChunkBytes)
            raise(ErrorCode::Crypto, "'{}': sealed unit {} has a damaged chunk header", context_,
                  index_);
        if (unit_.size() < chunkEnd()) return;
        if (!(chunkHeader() & kLastChunkBit)) {
            chunkAt_ = chunkEnd();
            return;
        }
        crypto::openUnit(*key_, from_, index_, unit_.span(), plain_, context_);
        crypto::sealUnit(*key_, to_, index_, plain_.span(), out);
        unit_.clear();
        chunkAt_ = 0;
        index_++;
    }

    std::shared_ptr<const crypto::RepoKey> key_;
    std::string from_, to_, context_;
    io::Buffer unit_, plain_;
    size_t chunkAt_ = 0;  // offset of the current chunk's header in unit_ (0: before the header)
    uint64_t index_ = 0;
};

}  // namespace

std::unique_ptr<io::Filter> makeResealFilter(std::shared_ptr<const crypto::RepoKey> key,
                                             std::string fromPiece, std::string toPiece,
                                             std::string context) {
    return std::make_unique<ResealFilter>(std::move(key), std::move(fromPiece), std::move(toPiece),
                                          std::move(context));
}

}  // namespace backrest::repo
