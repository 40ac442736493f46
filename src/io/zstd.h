// zstd streaming compression and decompression filters.
#pragma once

#include <cstdint>
#include <string>

#include "io/filter.h"

typedef struct ZSTD_CCtx_s ZSTD_CCtx;
typedef struct ZSTD_DCtx_s ZSTD_DCtx;

namespace backrest::io {

class ZstdCompressFilter : public Filter {
  public:
    // workers > 0: zstd compresses on that many threads of its own. sizeHint > 0: about how many
    // bytes will come (a file's size when the backup started; it may still change).
    explicit ZstdCompressFilter(int level, int workers = 0, uint64_t sizeHint = 0);
    ~ZstdCompressFilter() override;
    bool transforms() const override { return true; }
    void process(std::span<const uint8_t> in, Buffer& out) override;
    void finish(Buffer& out) override;

  private:
    ZSTD_CCtx* ctx_;
};

class ZstdDecompressFilter : public Filter {
  public:
    // `context` names the file or segment in errors ("... in file 'pg_data/base/1/1259.zst'").
    explicit ZstdDecompressFilter(std::string context);
    ~ZstdDecompressFilter() override;
    bool transforms() const override { return true; }
    void process(std::span<const uint8_t> in, Buffer& out) override;
    // Stops at `limit` output bytes so a highly compressed block cannot balloon memory.
    size_t processSome(std::span<const uint8_t> in, Buffer& out, size_t limit) override;
    // Raises CompressError when the input ended inside a frame (truncated file).
    void finish(Buffer& out) override;

  private:
    ZSTD_DCtx* ctx_;
    std::string context_;
    size_t lastHint_ = 0;  // ZSTD_decompressStream's return: 0 once a frame is complete
    bool sawInput_ = false;
};

}  // namespace backrest::io
