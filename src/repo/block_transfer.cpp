// Block store against a prior map, and block reassembly for restore and verify.
#include "repo/block_transfer.h"

#include <algorithm>
#include <set>

#include "common/error.h"
#include "common/parallel.h"
#include "io/buffer.h"
#include "io/file_checksum.h"
#include "repo/piece.h"
#include "storage/patch_file.h"

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
    FrameWriter(storage::Storage& repo, std::string path, std::string piece,
                const TransferOptions& options, BlockMap& map)
        : repo_(repo),
          path_(std::move(path)),
          piece_(std::move(piece)),
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
        // Sealed as unit k of the file's piece, k its index in this .blocks file: a frame moved
        // to another position or file does not open.
        options_.codec.encodeFrame(pending_.span(), piece_, map_.frames.size(), compressed_);
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
    std::string path_, piece_;
    const TransferOptions& options_;
    BlockMap& map_;
    std::unique_ptr<storage::StorageWrite> out_;
    io::Buffer pending_, compressed_;
    uint32_t pendingBlocks_ = 0;
    uint64_t offset_ = 0;
};

// From this size, a delta restore compares a file's blocks on several threads.
constexpr uint64_t kSplitCompareMinSize = 64ull << 20;

// Reads frames of one .blocks file: sequential frames follow each other without a seek, any
// other frame is a ranged read (a delta restore reads only the frames of changed blocks).
class FrameReader {
  public:
    FrameReader(storage::Storage& repo, std::string path) : repo_(repo), path_(std::move(path)) {}

    // Reads [offset, offset + length) into `out`; false when the file ends first.
    bool read(uint64_t offset, uint32_t length, io::Buffer& out) {
        if (!in_) {
            in_ = repo_.openRead(path_, /*ignoreMissing=*/false);
            pos_ = 0;
        }
        if (offset != pos_) {
            in_->seek(offset);
            pos_ = offset;
        }
        out.clear();
        uint8_t* into = out.ensureFree(length);
        for (size_t got = 0; got < length;) {
            size_t n = in_->read({into + got, length - got});
            if (n == 0) {
                pos_ = UINT64_MAX;  // unknown: seek next time
                return false;
            }
            got += n;
        }
        out.commit(length);
        pos_ += length;
        return true;
    }
    const std::string& path() const { return path_; }

  private:
    storage::Storage& repo_;
    std::string path_;
    std::unique_ptr<storage::StorageRead> in_;
    uint64_t pos_ = 0;  // file offset of the next read
};

// One backup's .blocks file of the file being read, with the frame last decompressed.
struct Holder {
    const BlockMap* map = nullptr;
    RepoCodec codec;
    std::string label;
    std::string piece;                    // its frames' (repo/piece.h)
    std::unique_ptr<FrameReader> reader;  // opened on first use
    size_t frame = SIZE_MAX;              // decompressed in `frameBytes`
    io::Buffer raw, frameBytes;
};

std::vector<Holder> holdersOf(storage::Storage& repo, const Layout& layout, const std::string& name,
                              const ResolvedBlockMap& resolved, const CompressByLabel& compressOf) {
    const BlockMap& map = resolved.map;
    std::vector<Holder> holders(map.holders.size());
    for (uint32_t h = 0; h < map.holders.size(); h++) {
        auto type = compressOf.find(map.holders[h]);
        if (type == compressOf.end())
            raise(ErrorCode::Format,
                  "file '{}' of backup {}: its block map names backup {}, which is not in the "
                  "backup's chain",
                  name, resolved.label, map.holders[h]);
        holders[h].map = &resolved.holderMap(h);
        holders[h].codec = RepoCodec(type->second).withKey(layout.key);
        holders[h].label = map.holders[h];
        holders[h].piece = backupFilePiece(layout, map.holders[h], name);
        holders[h].reader = std::make_unique<FrameReader>(
            repo, blockDataPath(layout, map.holders[h], name, holders[h].codec.extension()));
    }
    return holders;
}

// The original bytes of `slot` of holder `h`, checked against the block's checksum; its frame is
// read and decompressed unless it is the one last used. `block` is the block's index in the
// file, for messages.
std::span<const uint8_t> slotBytes(storage::Storage& repo, const std::string& name,
                                   const ResolvedBlockMap& resolved, Holder& h, uint32_t slot,
                                   uint64_t block) {
    size_t f = h.map->frameOf(slot);
    const BlockFrame& frame = h.map->frames[f];
    auto damaged = [&](const std::string& what) {
        raise(ErrorCode::Checksum,
              "file '{}' of backup {} is damaged in the repository: block {} is in backup {}, in "
              "the frame of {} bytes at offset {} of '{}', which {}",
              name, resolved.label, block, h.label, frame.storedLength, frame.offset,
              repo.fullPath(h.reader->path()), what);
    };
    if (f != h.frame) {
        h.frame = SIZE_MAX;
        if (!h.reader->read(frame.offset, frame.storedLength, h.raw))
            damaged("is past the end of the file");
        try {
            h.codec.decodeFrame(
                h.raw.span(), h.piece, f, frame.originalLength, h.frameBytes,
                fmt::format("'{}', frame {} (bytes {}-{})", repo.fullPath(h.reader->path()), f,
                            frame.offset, frame.offset + frame.storedLength));
        } catch (const Error& e) {
            if (e.code() == ErrorCode::Crypto)
                raise(ErrorCode::Crypto,
                      "file '{}' of backup {}: block {} (in backup {}) does not open with the "
                      "repository key: "
                      "it is damaged or not the frame it should be (swapped or moved in the "
                      "repository): {}",
                      name, resolved.label, block, h.label, e.what());
            if (e.code() != ErrorCode::Compress) throw;
            damaged(fmt::format("cannot be decompressed: {}", e.what()));
        }
        h.frame = f;
    }
    std::span<const uint8_t> bytes{
        h.frameBytes.data() + static_cast<size_t>(slot - frame.firstSlot) * h.map->blockSize,
        h.map->slotLength(slot)};
    if (blockChecksum(bytes) != h.map->checksums[slot])
        damaged("does not match the block's checksum");
    return bytes;
}

// The map of file expected.name in backup expected.label, with the maps of its holders, checked
// to describe a file of the manifest's size.
ResolvedBlockMap resolveForRestore(storage::Storage& repo, const Layout& layout,
                                   const ExpectedFile& expected) {
    std::string mapPath = blockMapPath(layout, expected.label, expected.name);
    if (!repo.info(mapPath))
        raise(ErrorCode::FileMissing,
              "file '{}' of backup {} is missing from the repository (expected '{}')",
              expected.name, expected.label, repo.fullPath(mapPath));
    auto resolved = resolveBlockMap(repo, layout, expected.label, expected.name);
    if (resolved.map.fileSize != expected.size)
        raise(ErrorCode::Checksum,
              "file '{}' of backup {} is damaged in the repository: the manifest records {} bytes, "
              "its block map '{}' describes {}",
              expected.name, expected.label, expected.size, repo.fullPath(mapPath),
              resolved.map.fileSize);
    return resolved;
}

// Where each block of the prior version is: (holder's map, holder label, slot).
struct PriorBlock {
    const BlockMap* holder;
    const std::string* label;
    uint32_t slot;
};

std::vector<PriorBlock> priorBlocks(const ResolvedBlockMap* prior) {
    std::vector<PriorBlock> was;
    if (!prior) return was;
    was.reserve(prior->map.blockCount());
    for (const auto& run : prior->map.runs)
        for (uint32_t k = 0; k < run.blocks; k++)
            was.push_back({&prior->holderMap(run.holder), &prior->map.holders[run.holder],
                           run.firstSlot + k});
    return was;
}

// The repository bytes of earlier backups a restore of `map` (backup `label`'s) reads: each other
// holder's map (resolveBlockMap loads it) and each of its frames holding a block of the file,
// once (reassembleBlocks reads a holder's slots in increasing order, a frame once). `prior`
// holds the map of every holder `map` names but `label`.
uint64_t referencedBytesOf(const BlockMap& map, const std::string& label,
                           const ResolvedBlockMap& prior) {
    std::set<std::pair<uint32_t, size_t>> frames;  // (holder, frame)
    std::set<uint32_t> holders;
    uint64_t bytes = 0;
    auto mapOf = [&](const std::string& holder) -> const BlockMap& {
        return holder == prior.label ? prior.map : prior.others.at(holder);
    };
    for (const auto& run : map.runs) {
        const std::string& holder = map.holders[run.holder];
        if (holder == label || run.blocks == 0) continue;
        const BlockMap& held = mapOf(holder);
        if (holders.insert(run.holder).second) bytes += held.storedBytes;
        // A run's slots are consecutive, so are the frames holding them.
        for (size_t f = held.frameOf(run.firstSlot);
             f <= held.frameOf(run.firstSlot + run.blocks - 1); f++)
            if (frames.insert({run.holder, f}).second) bytes += held.frames[f].storedLength;
    }
    return bytes;
}

// Writes the sealed map of the stored file; returns its bytes.
uint64_t writeBlockMap(storage::Storage& repo, const BlockTarget& target, const BlockMap& map,
                       storage::AsyncCloser* closer) {
    const std::string mapPath = blockMapPath(*target.layout, target.label, target.name);
    std::string encoded = sealBlockMap(encodeBlockMap(map), mapPath, target.layout->key);
    storage::WriteOptions write;
    write.syncPath = false;
    auto mapOut = repo.openWrite(mapPath, write);
    mapOut->write({reinterpret_cast<const uint8_t*>(encoded.data()), encoded.size()});
    closeWritten(std::move(mapOut), closer);
    return encoded.size();
}

// Where each block of the file is held: (holder, slot).
std::vector<std::pair<uint32_t, uint32_t>> blockLocations(const BlockMap& map,
                                                          const ExpectedFile& expected) {
    std::vector<std::pair<uint32_t, uint32_t>> where;
    where.reserve(map.blockCount());
    for (const auto& run : map.runs)
        for (uint32_t k = 0; k < run.blocks; k++) where.emplace_back(run.holder, run.firstSlot + k);
    if (where.size() != map.blockCount())
        raise(ErrorCode::Checksum,
              "file '{}' of backup {} is damaged in the repository: its block map describes {} "
              "blocks in runs of {}",
              expected.name, expected.label, map.blockCount(), where.size());
    return where;
}

// The blocks of the local file that differ from the backup's (sorted, each once), counting
// the blocks compared. Every local block is compared with the checksum of the backup's block
// at that position. A large file is compared in `threads` ranges at once: reading and hashing
// it is all a delta restore of a mostly unchanged file costs, and the largest file sets the
// floor. Blocks beyond the local end differ.
std::vector<size_t> differingBlocks(storage::PatchFile& file, uint64_t localSize,
                                    const BlockMap& map,
                                    const std::vector<std::pair<uint32_t, uint32_t>>& where,
                                    const std::vector<Holder>& holders, size_t threads,
                                    uint64_t& compared) {
    const size_t perRead = std::max<size_t>(1, (1024 * 1024) / map.blockSize) * map.blockSize;
    const uint64_t comparable = std::min(localSize, map.fileSize);
    const size_t parts = comparable >= kSplitCompareMinSize ? std::max<size_t>(1, threads) : 1;
    const uint64_t perPart = (comparable / parts + perRead - 1) / perRead * perRead;
    std::vector<std::vector<size_t>> found(parts);
    std::vector<uint64_t> comparedIn(parts, 0);
    runParallel(parts, parts, [&](size_t part) {
        io::Buffer local(perRead);
        uint64_t end = std::min(comparable, (part + 1) * perPart);
        for (uint64_t offset = part * perPart; offset < end; offset += perRead) {
            size_t want = static_cast<size_t>(std::min<uint64_t>(perRead, end - offset));
            size_t got = file.readAt(
                offset, {local.data(), want});  // shrank meanwhile: what is missing differs
            for (size_t at = 0; at < want; at += map.blockSize) {
                size_t block = static_cast<size_t>((offset + at) / map.blockSize);
                uint32_t length = map.blockLength(block);
                const auto& [holder, slot] = where[block];
                const BlockMap& held = *holders[holder].map;
                comparedIn[part]++;
                if (at + length <= got && held.slotLength(slot) == length &&
                    blockChecksum({local.data() + at, length}) == held.checksums[slot])
                    continue;
                found[part].push_back(block);
            }
        }
    });
    std::vector<size_t> differing;
    for (size_t part = 0; part < parts; part++) {
        differing.insert(differing.end(), found[part].begin(), found[part].end());
        compared += comparedIn[part];
    }
    for (size_t block = comparable == 0 ? 0
                                        : static_cast<size_t>((comparable - 1) / map.blockSize) + 1;
         block < map.blockCount(); block++)
        differing.push_back(block);  // beyond the local end
    std::sort(differing.begin(), differing.end());
    differing.erase(std::unique(differing.begin(), differing.end()), differing.end());
    return differing;
}

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

    std::vector<PriorBlock> was = priorBlocks(prior);
    BlockMap map;
    map.blockSize = blockSize;
    FrameWriter frames(
        repo, blockDataPath(*target.layout, target.label, target.name, options.codec.extension()),
        backupFilePiece(*target.layout, target.label, target.name), options, map);
    StoredBlocks stored;
    io::ChecksumFilter sum(options.checksumType);
    io::Buffer unused;
    auto storeBlock = [&](std::span<const uint8_t> block) {
        size_t index = map.blockCount();  // of the bytes before this block
        map.fileSize += block.size();
        sum.process(block, unused);
        if (observer) observer->process(block, unused);
        BlockChecksum blockSum = blockChecksum(block);
        if (index < was.size() && was[index].holder->slotLength(was[index].slot) == block.size() &&
            was[index].holder->checksums[was[index].slot] == blockSum) {
            map.appendBlock(*was[index].label, was[index].slot);
            stored.blocksKept++;
            return;
        }
        uint32_t slot = static_cast<uint32_t>(map.checksums.size());
        map.checksums.push_back(blockSum);
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
    sum.finish(unused);
    if (observer) observer->finish(unused);
    uint64_t blocksBytes = frames.finish();

    uint64_t mapBytes = writeBlockMap(repo, target, map, options.closer);
    if (prior) stored.referencedBytes = referencedBytesOf(map, target.label, *prior);
    stored.file.size = map.fileSize;
    stored.file.repoSize = blocksBytes + mapBytes;
    stored.file.checksum = sum.hex();
    return stored;
}

ReassembledFile reassembleBlocks(storage::Storage& repo, const Layout& layout,
                                 const std::string& name, const ResolvedBlockMap& resolved,
                                 const CompressByLabel& compressOf, io::ChecksumType checksumType,
                                 const std::function<void(std::span<const uint8_t>)>& sink,
                                 size_t /*bufferSize*/) {
    auto holders = holdersOf(repo, layout, name, resolved, compressOf);
    io::ChecksumFilter sum(checksumType);
    io::Buffer unused;
    uint64_t size = 0, block = 0;
    for (const auto& run : resolved.map.runs) {
        for (uint32_t slot = run.firstSlot; slot < run.firstSlot + run.blocks; slot++, block++) {
            auto bytes = slotBytes(repo, name, resolved, holders[run.holder], slot, block);
            sum.process(bytes, unused);
            size += bytes.size();
            sink(bytes);
        }
    }
    sum.finish(unused);
    return {size, sum.hex()};
}

void fetchBlocks(storage::Storage& repo, const Layout& layout, const CompressByLabel& compressOf,
                 storage::Storage& destination, const std::string& destinationPath,
                 const ExpectedFile& expected, size_t bufferSize, storage::AsyncCloser* closer) {
    auto type = io::checksumTypeOf(
        expected.checksum, fmt::format("file '{}' of backup {}", expected.name, expected.label));
    auto resolved = resolveForRestore(repo, layout, expected);
    auto out = destination.openWrite(destinationPath, expected.write);
    // Blocks come 8 KiB at a time: written in pieces of bufferSize, not a system call each.
    io::Buffer pending(std::max<size_t>(bufferSize, 64 * 1024));
    auto got = reassembleBlocks(
        repo, layout, expected.name, resolved, compressOf, type,
        [&](std::span<const uint8_t> bytes) {
            if (pending.size() + bytes.size() > pending.capacity()) {
                out->write(pending.span());
                pending.clear();
            }
            pending.append(bytes);
        },
        bufferSize);
    if (!pending.empty()) out->write(pending.span());
    if (got.checksum != expected.checksum || got.size != expected.size)
        raise(ErrorCode::Checksum,
              "file '{}' of backup {} is damaged in the repository ('{}'): recorded {} bytes with "
              "{} {}, restored {} bytes with {}",
              expected.name, expected.label,
              repo.fullPath(blockMapPath(layout, expected.label, expected.name)), expected.size,
              io::checksumAlgorithm(type), expected.checksum, got.size, got.checksum);
    // Only a verified file is kept; otherwise the writer removes it.
    closeWritten(std::move(out), closer);
}

PatchedBlocks patchBlocks(storage::Storage& repo, const Layout& layout,
                          const CompressByLabel& compressOf, storage::PosixStorage& dataDir,
                          const std::string& localPath, const ExpectedFile& expected,
                          size_t threads) {
    auto resolved = resolveForRestore(repo, layout, expected);
    const BlockMap& map = resolved.map;
    auto holders = holdersOf(repo, layout, expected.name, resolved, compressOf);
    auto where = blockLocations(map, expected);

    storage::PatchFile file(dataDir, localPath);
    const uint64_t localSize = file.sizeAtOpen();
    PatchedBlocks result;
    std::vector<size_t> differing =
        differingBlocks(file, localSize, map, where, holders, threads, result.blocksCompared);

    // Fetch the differing blocks, holder by holder in frame order (each frame read once).
    std::stable_sort(differing.begin(), differing.end(),
                     [&](size_t a, size_t b) { return where[a] < where[b]; });
    for (size_t block : differing) {
        const auto& [holder, slot] = where[block];
        size_t frameBefore = holders[holder].frame;
        auto bytes = slotBytes(repo, expected.name, resolved, holders[holder], slot, block);
        if (holders[holder].frame != frameBefore) result.framesRead++;
        file.writeAt(static_cast<uint64_t>(block) * map.blockSize, bytes);
        result.blocksWritten++;
    }
    if (localSize != map.fileSize) file.truncate(map.fileSize);
    if (result.blocksWritten > 0 || localSize != map.fileSize) file.sync();
    file.close();
    return result;
}

}  // namespace backrest::repo
