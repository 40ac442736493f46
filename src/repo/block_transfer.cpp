// Block store against a prior map, and block reassembly for restore and verify.
#include "repo/block_transfer.h"

#include <algorithm>

#include "common/error.h"
#include "io/buffer.h"
#include "io/filter_chain.h"
#include "io/sha256.h"

namespace backrest::repo {

namespace {

std::span<const uint8_t> bytesOf(const std::string& s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Each block is a complete stream of the codec (a zstd frame) so that it can be read alone.
void compressBlock(std::span<const uint8_t> block, const TransferOptions& options, io::Buffer& out) {
    out.clear();
    io::FilterChain chain([&](std::span<const uint8_t> bytes) { out.append(bytes); });
    chain.push(io::makeCompressFilter(options.compressType, options.compressLevel));
    chain.write(block);
    chain.finish();
}

void closeWritten(std::unique_ptr<storage::StorageWrite> file, storage::AsyncCloser* closer) {
    if (closer)
        closer->close(std::move(file));
    else
        file->close();
}

// Reads byte ranges of one .blocks file front to back. The blocks a map takes from one holder
// are in increasing offset order (each backup appends in block order and later maps keep
// entries in place), so one open file per holder serves a whole map; going back reopens it.
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
            size_t n = static_cast<size_t>(std::min<uint64_t>(end_ - next_, offset + length - pos_));
            if (pos_ >= offset) {
                out.append({buffer_.data() + next_, n});
            } else {
                n = static_cast<size_t>(std::min<uint64_t>(n, offset - pos_));  // skipping
            }
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
                                        storage::Storage& repo, const BlockTarget& target, uint32_t blockSize,
                                        const BlockMap* prior, const TransferOptions& options,
                                        io::Filter* observer) {
    if (blockSize == 0) raise(ErrorCode::Assert, "storeBlocks of '{}' with block size 0", target.name);
    if (prior && prior->blockSize != blockSize) prior = nullptr;
    auto in = source.openRead(sourcePath, /*ignoreMissing=*/true);
    if (!in) return std::nullopt;

    storage::WriteOptions write;
    write.syncPath = false;  // the caller syncs each directory once, before the manifest
    std::string ext(io::compressExtension(options.compressType));
    std::unique_ptr<storage::StorageWrite> blocksOut;  // opened with the first changed block
    StoredBlocks stored;
    BlockMap map;
    map.blockSize = blockSize;
    io::Sha256Filter sha;
    io::Buffer unused, compressed;
    uint64_t blocksBytes = 0;

    auto storeBlock = [&](std::span<const uint8_t> block) {
        size_t index = map.blocks.size();
        sha.process(block, unused);
        if (observer) observer->process(block, unused);
        BlockRef ref;
        ref.checksum = blockChecksum(block);
        if (prior && index < prior->blocks.size() && prior->blockLength(index) == block.size() &&
            prior->blocks[index].checksum == ref.checksum) {
            const BlockRef& was = prior->blocks[index];
            ref.holder = map.holderIndex(prior->holders.at(was.holder));
            ref.offset = was.offset;
            ref.length = was.length;
            stored.blocksKept++;
        } else {
            compressBlock(block, options, compressed);
            if (!blocksOut) blocksOut = repo.openWrite(blockDataPath(*target.layout, target.label, target.name, ext), write);
            blocksOut->write(compressed.span());
            ref.holder = map.holderIndex(target.label);
            ref.offset = blocksBytes;
            ref.length = static_cast<uint32_t>(compressed.size());
            blocksBytes += compressed.size();
            stored.blocksStored++;
        }
        map.blocks.push_back(ref);
        map.fileSize += block.size();
    };

    // Whole blocks from reads of about bufferSize; only the end of the file makes a short one.
    size_t perRead = std::max<size_t>(1, options.bufferSize / blockSize) * blockSize;
    io::Buffer buffer(perRead);
    for (bool eof = false; !eof;) {
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

    std::string encoded = encodeBlockMap(map);
    auto mapOut = repo.openWrite(blockMapPath(*target.layout, target.label, target.name), write);
    mapOut->write(bytesOf(encoded));
    if (blocksOut) closeWritten(std::move(blocksOut), options.closer);
    closeWritten(std::move(mapOut), options.closer);
    stored.file = {map.fileSize, blocksBytes + encoded.size(), sha.hex()};
    return stored;
}

ReassembledFile reassembleBlocks(storage::Storage& repo, const BlockTarget& mapOf, const BlockMap& map,
                                 const CompressByLabel& compressOf,
                                 const std::function<void(std::span<const uint8_t>)>& sink, size_t bufferSize) {
    std::vector<std::unique_ptr<HolderReader>> readers(map.holders.size());
    std::vector<io::CompressType> types(map.holders.size());
    for (size_t h = 0; h < map.holders.size(); h++) {
        auto type = compressOf.find(map.holders[h]);
        if (type == compressOf.end())
            raise(ErrorCode::Format,
                  "file '{}' of backup {}: its block map names backup {}, which is not in the backup's chain", mapOf.name,
                  mapOf.label, map.holders[h]);
        types[h] = type->second;
    }
    io::Sha256Filter sha;
    io::Buffer raw, block, unused;
    uint64_t size = 0;
    for (size_t i = 0; i < map.blocks.size(); i++) {
        const BlockRef& ref = map.blocks[i];
        auto& reader = readers[ref.holder];
        if (!reader)
            reader = std::make_unique<HolderReader>(
                repo,
                blockDataPath(*mapOf.layout, map.holders[ref.holder], mapOf.name,
                              io::compressExtension(types[ref.holder])),
                std::min<size_t>(bufferSize, 256 * 1024));
        auto damaged = [&](const std::string& what) {
            raise(ErrorCode::Checksum,
                  "file '{}' of backup {} is damaged in the repository: block {} (stored in backup {}, '{}' at offset "
                  "{}, {} bytes) {}",
                  mapOf.name, mapOf.label, i, map.holders[ref.holder], repo.fullPath(reader->path()), ref.offset,
                  ref.length, what);
        };
        if (!reader->read(ref.offset, ref.length, raw)) damaged("is past the end of the file");
        uint32_t expected = map.blockLength(i);
        block.clear();
        try {
            io::FilterChain chain([&](std::span<const uint8_t> bytes) {
                if (block.size() + bytes.size() > expected) damaged("decompresses to more bytes than the block holds");
                block.append(bytes);
            });
            chain.push(io::makeDecompressFilter(types[ref.holder], repo.fullPath(reader->path())));
            chain.write(raw.span());
            chain.finish();
        } catch (const Error& e) {
            if (e.code() != ErrorCode::Compress) throw;
            damaged(e.what());
        }
        if (block.size() != expected) damaged(fmt::format("holds {} bytes, not {}", block.size(), expected));
        if (blockChecksum(block.span()) != ref.checksum) damaged("does not match its checksum");
        sha.process(block.span(), unused);
        size += block.size();
        sink(block.span());
    }
    sha.finish(unused);
    return {size, sha.hex()};
}

void fetchBlocks(storage::Storage& repo, const Layout& layout, const CompressByLabel& compressOf,
                 storage::Storage& destination, const std::string& destinationPath, const ExpectedFile& expected,
                 size_t bufferSize, storage::AsyncCloser* closer) {
    std::string mapPath = blockMapPath(layout, expected.label, expected.name);
    if (!repo.info(mapPath))
        raise(ErrorCode::FileMissing, "file '{}' of backup {} is missing from the repository (expected '{}')",
              expected.name, expected.label, repo.fullPath(mapPath));
    BlockMap map = loadBlockMap(repo, mapPath);
    if (map.fileSize != expected.size)
        raise(ErrorCode::Checksum,
              "file '{}' of backup {} is damaged in the repository: the manifest records {} bytes, its block map "
              "'{}' describes {}",
              expected.name, expected.label, expected.size, repo.fullPath(mapPath), map.fileSize);
    auto out = destination.openWrite(destinationPath, expected.write);
    auto got = reassembleBlocks(repo, {&layout, expected.label, expected.name}, map, compressOf,
                                [&](std::span<const uint8_t> bytes) { out->write(bytes); }, bufferSize);
    if (got.sha256 != expected.sha256 || got.size != expected.size)
        raise(ErrorCode::Checksum,
              "file '{}' of backup {} is damaged in the repository ('{}'): recorded {} bytes with SHA-256 {}, "
              "restored {} bytes with SHA-256 {}",
              expected.name, expected.label, repo.fullPath(mapPath), expected.size, expected.sha256, got.size,
              got.sha256);
    // Only a verified file is kept; otherwise the writer removes it.
    closeWritten(std::move(out), closer);
}

}  // namespace backrest::repo
