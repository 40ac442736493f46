// A synthetic WAL segment for the unit tests: a long page header carrying a cluster's identity,
// then pseudo-random bytes (half of them >= 0x80, which a comparison through signed char would
// get wrong). Enough for archive-push's identity checks; not replayable WAL.
#pragma once

#include <cstdint>
#include <cstring>
#include <random>
#include <string>

namespace backrest::test {

inline std::string syntheticWalSegment(uint64_t systemId, uint32_t seed, uint32_t segmentSize,
                                       uint16_t magic = 0xD110) {
    std::string b(segmentSize, '\0');
    std::mt19937 rng(seed);
    for (size_t i = 0; i + 4 <= b.size(); i += 4) {
        uint32_t r = rng();
        std::memcpy(b.data() + i, &r, 4);
    }
    uint16_t info = 0x0002;  // XLP_LONG_HEADER
    uint32_t timeline = 1, zero = 0, blockSize = 8192;
    uint64_t pageAddress = segmentSize;
    std::memcpy(b.data(), &magic, 2);
    std::memcpy(b.data() + 2, &info, 2);
    std::memcpy(b.data() + 4, &timeline, 4);
    std::memcpy(b.data() + 8, &pageAddress, 8);
    std::memcpy(b.data() + 16, &zero, 4);
    std::memcpy(b.data() + 20, &zero, 4);
    std::memcpy(b.data() + 24, &systemId, 8);
    std::memcpy(b.data() + 32, &segmentSize, 4);
    std::memcpy(b.data() + 36, &blockSize, 4);
    return b;
}

}  // namespace backrest::test
