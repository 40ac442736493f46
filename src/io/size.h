// Byte-counting observer filter.
#pragma once

#include <cstdint>

#include "io/filter.h"

namespace backrest::io {

class SizeFilter : public Filter {
  public:
    bool transforms() const override { return false; }
    void process(std::span<const uint8_t> in, Buffer&) override { bytes_ += in.size(); }
    uint64_t bytes() const { return bytes_; }

  private:
    uint64_t bytes_ = 0;
};

}  // namespace backrest::io
