// The repository codec: compression today; encryption joins it after compression (write) and
// before decompression (read), here only.
#include "repo/codec.h"

#include "io/frame_codec.h"
#include "io/zstd_frames.h"

namespace backrest::repo {

namespace {

// The frame compressor is the chain's filter; the index reads its sizes.
class ZstdFrameIndex : public io::Filter, public FrameIndex {
  public:
    ZstdFrameIndex(int level, uint64_t frameBytes, int workers)
        : inner_(level, frameBytes, workers) {}
    bool transforms() const override { return true; }
    void process(std::span<const uint8_t> in, io::Buffer& out) override { inner_.process(in, out); }
    void finish(io::Buffer& out) override { inner_.finish(out); }
    std::span<uint8_t> inputSpace() override { return inner_.inputSpace(); }
    void commitInput(size_t n, io::Buffer& out) override { inner_.commitInput(n, out); }
    const std::vector<uint64_t>& frameSizes() const override { return inner_.frameSizes(); }

  private:
    io::ZstdFramedCompressFilter inner_;
};

}  // namespace

RepoCodec RepoCodec::storedWith(io::CompressType compressType) const {
    RepoCodec stored = *this;
    stored.compressType_ = compressType;
    return stored;
}

// enc-key stub: the data path is sealed on branch enc-data (take its codec.cpp on merge); here
// the key is carried but data is stored as before.
RepoCodec RepoCodec::withKey(std::shared_ptr<const crypto::RepoKey> key) const {
    RepoCodec keyed = *this;
    keyed.key_ = std::move(key);
    return keyed;
}

const FrameIndex* RepoCodec::pushEncode(io::FilterChain& chain, const std::string&, const EncodeShape& shape) const {
    if (shape.frameBytes > 0 && hasFrames()) {
        auto framed =
            std::make_unique<ZstdFrameIndex>(compressLevel_, shape.frameBytes, shape.workers);
        const FrameIndex* index = framed.get();
        chain.push(std::move(framed));
        return index;
    }
    chain.push(
        io::makeCompressFilter(compressType_, compressLevel_, shape.workers, shape.sizeHint));
    return nullptr;
}

void RepoCodec::pushDecode(io::FilterChain& chain, const std::string&, std::string context) const {
    chain.push(io::makeDecompressFilter(compressType_, std::move(context)));
}

void RepoCodec::pushReseal(io::FilterChain&, const std::string&, const std::string&, std::string) const {}

void RepoCodec::encodeFrame(std::span<const uint8_t> in, const std::string&, uint64_t, io::Buffer& out) const {
    io::compressFrame(compressType_, compressLevel_, in, out);
}

void RepoCodec::decodeFrame(std::span<const uint8_t> in, const std::string&, uint64_t, size_t originalLength,
                            io::Buffer& out, const std::string& context) const {
    io::decompressFrame(compressType_, in, originalLength, out, context);
}

}  // namespace backrest::repo
