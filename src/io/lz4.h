// lz4 streaming compression and decompression filters: the lz4 frame format (LZ4F_*), with its
// content checksum, as pgBackRest and the `lz4` tool write it.
#pragma once

#include <cstdint>
#include <string>

#include "io/filter.h"

typedef struct LZ4F_cctx_s LZ4F_cctx;
typedef struct LZ4F_dctx_s LZ4F_dctx;

namespace backrest::io {

class Lz4CompressFilter : public Filter {
  public:
    // `level`: -5..-1 faster (acceleration), 1..2 lz4's fast mode, 3..12 its HC modes.
    explicit Lz4CompressFilter(int level);
    ~Lz4CompressFilter() override;
    Lz4CompressFilter(const Lz4CompressFilter&) = delete;
    Lz4CompressFilter& operator=(const Lz4CompressFilter&) = delete;
    bool transforms() const override { return true; }
    void process(std::span<const uint8_t> in, Buffer& out) override;
    void finish(Buffer& out) override;

  private:
    void begin(Buffer& out);  // the frame header, before the first bytes (or the end)

    LZ4F_cctx* ctx_ = nullptr;
    int level_;
    bool begun_ = false;
};

class Lz4DecompressFilter : public Filter {
  public:
    // `context` names the file or segment in errors ("... of '/repo/…/1259.lz4'").
    explicit Lz4DecompressFilter(std::string context);
    ~Lz4DecompressFilter() override;
    Lz4DecompressFilter(const Lz4DecompressFilter&) = delete;
    Lz4DecompressFilter& operator=(const Lz4DecompressFilter&) = delete;
    bool transforms() const override { return true; }
    void process(std::span<const uint8_t> in, Buffer& out) override;
    // Stops at `limit` output bytes so a highly compressed block cannot balloon memory.
    size_t processSome(std::span<const uint8_t> in, Buffer& out, size_t limit) override;
    // Raises CompressError when there was no frame at all or the input ended inside one.
    void finish(Buffer& out) override;

  private:
    LZ4F_dctx* ctx_ = nullptr;
    std::string context_;
    size_t lastHint_ = 0;  // LZ4F_decompress's return: 0 once a frame is complete
    bool sawInput_ = false;
};

}  // namespace backrest::io
