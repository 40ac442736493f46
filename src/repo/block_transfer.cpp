// Block store against a prior map, and block reassembly for restore and verify.
#include "repo/block_transfer.h"

#include <algorithm>

#include "common/error.h"
#include "io/buffer.h"
#include "io/filter_chain.h"
#include "io/sha256.h"

namespace backrest::repo {

namespace {

void closeWritten(std::unique_ptr<storage::StorageWrite> file, storage::AsyncCloser* closer) {
    if (closer)
        closer->close(std::move(file));
    else
        file->close();
}

// Collects the blocks a backup stores into frames and writes each, compressed, to the .blocks
// file (created with the first frame: a backup that changed no block of the file has none).
class FrameWriter {
  public:
    FrameWriter(storage::Storage& repo, std::string path, const TransferOptions& options,
                BlockMap& map)
        : repo_(repo),
          path_(std::move(path)),
          options_(options),
          map_(map),
          pending_(kBlockFrameSize) {}

    void add(std::span<const uint8_t> block) {
        pending_.append(block);
        pendingBlocks_++;
        if (pending_.size() >= kBlockFrameSize) flush();
    }

    // Returns the stored bytes.
    uint64_t finish() {
        flush();
        if (out_) closeWritten(std::move(out_), options_.closer);
        return offset_;
    }

  private:
    void flush() {
        if (pendingBlocks_ == 0) return;
        compressed_.clear();
        io::FilterChain chain([&](std::span<const uint8_t> bytes) { compressed_.append(bytes); });
        chain.push(io::makeCompressFilter(options_.compressType, options_.compressLevel));
        chain.write(pending_.span());
        chain.finish();
        if (!out_) {
            storage::WriteOptions write;
            write.syncPath = false;  // the caller syncs each directory once, before the manifest
            out_ = repo_.openWrite(path_, write);
        }
        out_->write(compressed_.span());
        BlockFrame f;
        f.offset = offset_;
        f.storedLength = static_cast<uint32_t>(compressed_.size());
        f.blocks = pendingBlocks_;
        f.firstSlot = static_cast<uint32_t>(map_.checksums.size()) - pendingBlocks_;
        f.originalLength = static_cast<uint32_t>(pending_.size());
        map_.frames.push_back(f);
        offset_ += compressed_.size();
        pending_.clear();
        pendingBlocks_ = 0;
    }

    storage::Storage& repo_;
    std::string path_;
    const TransferOptions& options_;
    BlockMap& map_;
    std::unique_ptr<storage::StorageWrite> out_;
    io::Buffer pending_, compressed_;
    uint32_t pendingBlocks_ = 0;
    uint64_t offset_ = 0;
};

// Reads byte ranges of one .blocks file front to back. The blocks a map takes from one holder
// are in increasing offset order (each backup stores in block order and later maps refer to a
// block at the same position), so one open file per holder serves a whole map; going back
// reopens it.
class HolderReader {
  public:
    HolderReader(storage::Storage& repo, std::string path, size_t bufferSize)
        : repo_(repo), path_(std::move(path)), buffer_(bufferSize) {}

    // Reads [offset, offset + length) into `out`; false when the file ends first.
    bool read(uint64_t offset, uint32_t length, io::Buffer& out) {
        if (!in_ || offset < pos_) open();
        out.clear();
        while (pos_ < offset + length) {
            if (next_ == end_ && !fill()) return false;
            size_t n =
                static_cast<size_t>(std::min<uint64_t>(end_ - next_, offset + length - pos_));
            if (pos_ >= offset)
                out.append({buffer_.data() + next_, n});
            else
                n = static_cast<size_t>(std::min<uint64_t>(n, offset - pos_));  // skipping
            next_ += n;
            pos_ += n;
        }
        return true;
    }
    const std::string& path() const { return path_; }

  private:
    void open() {
        in_ = repo_.openRead(path_, /*ignoreMissing=*/false);
        pos_ = 0;
        next_ = end_ = 0;
    }
    bool fill() {
        end_ = in_->read({buffer_.data(), buffer_.capacity()});
        next_ = 0;
        return end_ > 0;
    }

    storage::Storage& repo_;
    std::string path_;
    std::unique_ptr<storage::StorageRead> in_;
    io::Buffer buffer_;
    size_t next_ = 0, end_ = 0;  // unread part of buffer_
    uint64_t pos_ = 0;           // file offset of buffer_[next_]
};

}  // namespace

std::optional<StoredBlocks> storeBlocks(storage::Storage& source, const std::string& sourcePath,
                                        storage::Storage& repo, const BlockTarget& target,
                                        uint32_t blockSize, const ResolvedBlockMap* prior,
                                        const TransferOptions& options, io::Filter* observer) {
    if (blockSize == 0)
        raise(ErrorCode::Assert, "storeBlocks of '{}' with block size 0", target.name);
    if (prior && prior->map.blockSize != blockSize) prior = nullptr;
    auto in = source.openRead(sourcePath, /*ignoreMissing=*/true);
    if (!in) return std::nullopt;

    // Where each block of the prior version is: (holder's map, holder label, slot).
    struct PriorBlock {
        const BlockMap* holder;
        const std::string* label;
        uint32_t slot;
    };
    std::vector<PriorBlock> was;
    if (prior) {
        was.reserve(prior->map.blockCount());
        for (const auto& run : prior->map.runs)
            for (uint32_t k = 0; k < run.blocks; k++)
                was.push_back({&prior->holderMap(run.holder), &prior->map.holders[run.holder],
                               run.firstSlot + k});
    }

    BlockMap map;
    map.blockSize = blockSize;
    FrameWriter frames(repo,
                       blockDataPath(*target.layout, target.label, target.name,
                                     io::compressExtension(options.compressType)),
                       options, map);
    StoredBlocks stored;
    io::Sha256Filter sha;
    io::Buffer unused;
    auto storeBlock = [&](std::span<const uint8_t> block) {
        size_t index = map.blockCount();  // of the bytes before this block
        map.fileSize += block.size();
        sha.process(block, unused);
        if (observer) observer->process(block, unused);
        BlockChecksum sum = blockChecksum(block);
        if (index < was.size() && was[index].holder->slotLength(was[index].slot) == block.size() &&
            was[index].holder->checksums[was[index].slot] == sum) {
            map.appendBlock(*was[index].label, was[index].slot);
            stored.blocksKept++;
            return;
        }
        uint32_t slot = static_cast<uint32_t>(map.checksums.size());
        map.checksums.push_back(sum);
        map.appendBlock(target.label, slot);
        frames.add(block);
        stored.blocksStored++;
    };

    // Whole blocks from reads of about bufferSize; only the end of the file makes a short one.
    size_t perRead = std::max<size_t>(1, options.bufferSize / blockSize) * blockSize;
    io::Buffer buffer(perRead);
    for (bool eof = false; !eof;) {
        if (options.cancel && *options.cancel)
            raise(ErrorCode::Cancelled, "cancelled while copying '{}'",
                  source.fullPath(sourcePath));
        size_t filled = 0;
        while (filled < perRead) {
            size_t n = in->read({buffer.data() + filled, perRead - filled});
            if (n == 0) {
                eof = true;
                break;
            }
            filled += n;
        }
        for (size_t at = 0; at < filled; at += blockSize)
            storeBlock({buffer.data() + at, std::min<size_t>(blockSize, filled - at)});
    }
    sha.finish(unused);
    if (observer) observer->finish(unused);
    uint64_t blocksBytes = frames.finish();

    std::string encoded = encodeBlockMap(map);
    storage::WriteOptions write;
    write.syncPath = false;
    auto mapOut = repo.openWrite(blockMapPath(*target.layout, target.label, target.name), write);
    mapOut->write({reinterpret_cast<const uint8_t*>(encoded.data()), encoded.size()});
    closeWritten(std::move(mapOut), options.closer);
    stored.file = {map.fileSize, blocksBytes + encoded.size(), sha.hex()};
    return stored;
}

ReassembledFile reassembleBlocks(storage::Storage& repo, const Layout& layout,
                                 const std::string& name, const ResolvedBlockMap& resolved,
                                 const CompressByLabel& compressOf,
                                 const std::function<void(std::span<const uint8_t>)>& sink,
                                 size_t bufferSize) {
    const BlockMap& map = resolved.map;
    struct Holder {
        const BlockMap* map;
        io::CompressType type;
        std::unique_ptr<HolderReader> reader;  // opened on first use
        size_t frame = SIZE_MAX;               // decoded in `frameBytes`
        io::Buffer frameBytes;
    };
    std::vector<Holder> holders;
    for (uint32_t h = 0; h < map.holders.size(); h++) {
        auto type = compressOf.find(map.holders[h]);
        if (type == compressOf.end())
            raise(ErrorCode::Format,
                  "file '{}' of backup {}: its block map names backup {}, which is not in the "
                  "backup's chain",
                  name, resolved.label, map.holders[h]);
        holders.push_back({&resolved.holderMap(h), type->second, nullptr, SIZE_MAX, {}});
    }

    io::Sha256Filter sha;
    io::Buffer raw, unused;
    uint64_t size = 0, block = 0;
    for (const auto& run : map.runs) {
        Holder& h = holders[run.holder];
        if (!h.reader)
            h.reader = std::make_unique<HolderReader>(
                repo,
                blockDataPath(layout, map.holders[run.holder], name, io::compressExtension(h.type)),
                std::min<size_t>(bufferSize, 256 * 1024));
        for (uint32_t slot = run.firstSlot; slot < run.firstSlot + run.blocks; slot++, block++) {
            size_t f = h.map->frameOf(slot);
            const BlockFrame& frame = h.map->frames[f];
            auto damaged = [&](const std::string& what) {
                raise(ErrorCode::Checksum,
                      "file '{}' of backup {} is damaged in the repository: block {} is in backup "
                      "{}, in the frame "
                      "of {} bytes at offset {} of '{}', which {}",
                      name, resolved.label, block, map.holders[run.holder], frame.storedLength,
                      frame.offset, repo.fullPath(h.reader->path()), what);
            };
            if (f != h.frame) {
                h.frame = SIZE_MAX;
                if (!h.reader->read(frame.offset, frame.storedLength, raw))
                    damaged("is past the end of the file");
                h.frameBytes.clear();
                try {
                    io::FilterChain chain([&](std::span<const uint8_t> bytes) {
                        if (h.frameBytes.size() + bytes.size() > frame.originalLength)
                            damaged(fmt::format("decompresses to more than {} bytes",
                                                frame.originalLength));
                        h.frameBytes.append(bytes);
                    });
                    chain.push(io::makeDecompressFilter(h.type, repo.fullPath(h.reader->path())));
                    chain.write(raw.span());
                    chain.finish();
                } catch (const Error& e) {
                    if (e.code() != ErrorCode::Compress) throw;
                    damaged(fmt::format("cannot be decompressed: {}", e.what()));
                }
                if (h.frameBytes.size() != frame.originalLength)
                    damaged(fmt::format("decompresses to {} bytes, not {}", h.frameBytes.size(),
                                        frame.originalLength));
                h.frame = f;
            }
            std::span<const uint8_t> bytes{
                h.frameBytes.data() + static_cast<size_t>(slot - frame.firstSlot) * map.blockSize,
                h.map->slotLength(slot)};
            if (blockChecksum(bytes) != h.map->checksums[slot])
                damaged("does not match the block's checksum");
            sha.process(bytes, unused);
            size += bytes.size();
            sink(bytes);
        }
    }
    sha.finish(unused);
    return {size, sha.hex()};
}

void fetchBlocks(storage::Storage& repo, const Layout& layout, const CompressByLabel& compressOf,
                 storage::Storage& destination, const std::string& destinationPath,
                 const ExpectedFile& expected, size_t bufferSize, storage::AsyncCloser* closer) {
    std::string mapPath = blockMapPath(layout, expected.label, expected.name);
    if (!repo.info(mapPath))
        raise(ErrorCode::FileMissing,
              "file '{}' of backup {} is missing from the repository (expected '{}')",
              expected.name, expected.label, repo.fullPath(mapPath));
    auto resolved = resolveBlockMap(repo, layout, expected.label, expected.name);
    if (resolved.map.fileSize != expected.size)
        raise(ErrorCode::Checksum,
              "file '{}' of backup {} is damaged in the repository: the manifest records {} bytes, "
              "its block map "
              "'{}' describes {}",
              expected.name, expected.label, expected.size, repo.fullPath(mapPath),
              resolved.map.fileSize);
    auto out = destination.openWrite(destinationPath, expected.write);
    auto got = reassembleBlocks(
        repo, layout, expected.name, resolved, compressOf,
        [&](std::span<const uint8_t> bytes) { out->write(bytes); }, bufferSize);
    if (got.sha256 != expected.sha256 || got.size != expected.size)
        raise(ErrorCode::Checksum,
              "file '{}' of backup {} is damaged in the repository ('{}'): recorded {} bytes with "
              "SHA-256 {}, "
              "restored {} bytes with SHA-256 {}",
              expected.name, expected.label, repo.fullPath(mapPath), expected.size, expected.sha256,
              got.size, got.sha256);
    // Only a verified file is kept; otherwise the writer removes it.
    closeWritten(std::move(out), closer);
}

}  // namespace backrest::repo
