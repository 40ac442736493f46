// The repository codec: compression, then sealing (crypto/sealed.h) when the repository has a
// key; reading opens the units before decompressing. Here only.
#include "repo/codec.h"

#include "crypto/sealed.h"
#include "io/frame_codec.h"
#include "io/zstd_frames.h"
#include "repo/reseal.h"

namespace backrest::repo {

namespace {

// The frame compressor is the chain's filter; the index reads its sizes (sealed sizes, when the
// hook seals each frame).
class ZstdFrameIndex : public io::Filter, public FrameIndex {
  public:
    ZstdFrameIndex(io::CompressType type, int level, uint64_t frameBytes, int workers,
                   io::ZstdFramedCompressFilter::FrameHook hook)
        : inner_(level, frameBytes, workers, std::move(hook), type) {}
    bool transforms() const override { return true; }
    void process(std::span<const uint8_t> in, io::Buffer& out) override { inner_.process(in, out); }
    void finish(io::Buffer& out) override { inner_.finish(out); }
    std::span<uint8_t> inputSpace() override { return inner_.inputSpace(); }
    void commitInput(size_t n, io::Buffer& out) override { inner_.commitInput(n, out); }
    const std::vector<uint64_t>& frameSizes() const override { return inner_.frameSizes(); }

  private:
    io::ZstdFramedCompressFilter inner_;
};

// A frame's compressed bytes between compression and sealing (or opening and decompression):
// one per thread, since a backup or restore handles tens of thousands of frames.
io::Buffer& frameScratch() {
    thread_local io::Buffer scratch;
    scratch.clear();
    return scratch;
}

}  // namespace

RepoCodec RepoCodec::withKey(std::shared_ptr<const crypto::RepoKey> key) const {
    RepoCodec keyed = *this;
    keyed.key_ = std::move(key);
    return keyed;
}

RepoCodec RepoCodec::storedWith(io::CompressType compressType) const {
    RepoCodec stored = *this;
    stored.compressType_ = compressType;
    return stored;
}

const FrameIndex* RepoCodec::pushEncode(io::FilterChain& chain, const std::string& piece,
                                        const EncodeShape& shape) const {
    if (shape.frameBytes > 0 && hasFrames()) {
        io::ZstdFramedCompressFilter::FrameHook seal;
        if (key_)
            seal = [key = key_, piece](uint64_t k, std::span<const uint8_t> compressed,
                                       io::Buffer& out) {
                crypto::sealUnit(*key, piece, k, compressed, out);
            };
        auto framed = std::make_unique<ZstdFrameIndex>(
            compressType_, compressLevel_, shape.frameBytes, shape.workers, std::move(seal));
        const FrameIndex* index = framed.get();
        chain.push(std::move(framed));
        return index;
    }
    chain.push(
        io::makeCompressFilter(compressType_, compressLevel_, shape.workers, shape.sizeHint));
    if (key_) chain.push(crypto::makeSealFilter(key_, piece, 0));
    return nullptr;
}

void RepoCodec::pushDecode(io::FilterChain& chain, const std::string& piece,
                           std::string context) const {
    if (key_) chain.push(crypto::makeOpenFilter(key_, piece, context));
    chain.push(io::makeDecompressFilter(compressType_, std::move(context)));
}

void RepoCodec::pushReseal(io::FilterChain& chain, const std::string& fromPiece,
                           const std::string& toPiece, std::string context) const {
    if (!key_) return;
    chain.push(makeResealFilter(key_, fromPiece, toPiece, std::move(context)));
}

void RepoCodec::encodeFrame(std::span<const uint8_t> in, const std::string& piece,
                            uint64_t frameIndex, io::Buffer& out) const {
    if (!key_) {
        io::compressFrame(compressType_, compressLevel_, in, out);
        return;
    }
    io::Buffer& compressed = frameScratch();
    io::compressFrame(compressType_, compressLevel_, in, compressed);
    crypto::sealUnit(*key_, piece, frameIndex, compressed.span(), out);
}

void RepoCodec::decodeFrame(std::span<const uint8_t> in, const std::string& piece,
                            uint64_t frameIndex, size_t originalLength, io::Buffer& out,
                            const std::string& context) const {
    if (!key_) {
        io::decompressFrame(compressType_, in, originalLength, out, context);
        return;
    }
    io::Buffer& compressed = frameScratch();
    crypto::openUnit(*key_, piece, frameIndex, in, compressed, context);
    io::decompressFrame(compressType_, compressed.span(), originalLength, out, context);
}

}  // namespace backrest::repo
