// PostgreSQL's data-page checksum (storage/checksum_impl.h) and the page header fields a
// backup needs to judge a page (storage/bufpage.h), without the backend's headers.
#pragma once

#include <cstdint>

namespace backrest::pg {

constexpr uint32_t kPageSize = 8192;                // BLCKSZ
constexpr uint32_t kRelationSegmentPages = 131072;  // RELSEG_SIZE: 1 GiB segment files

// The checksum PostgreSQL stores in pd_checksum for `page` (kPageSize bytes, any alignment)
// at `blockNumber` (counted from the start of the relation fork, across segment files).
// The stored pd_checksum field is treated as zero; the caller's bytes are not modified.
// Meaningless for a new page (pd_upper == 0): PostgreSQL never checksums those.
uint16_t pageChecksum(const uint8_t* page, uint32_t blockNumber);

// Read-only view of PageHeaderData at the start of a page, in host (little-endian) order.
class PageHeaderView {
  public:
    explicit PageHeaderView(const uint8_t* page) : page_(page) {}

    uint64_t lsn() const;  // pd_lsn: xlogid (high 32 bits) then xrecoff (low 32 bits)
    uint16_t checksum() const { return field16(8); }
    uint16_t flags() const { return field16(10); }
    uint16_t lower() const { return field16(12); }
    uint16_t upper() const { return field16(14); }
    uint16_t special() const { return field16(16); }

  private:
    uint16_t field16(unsigned offset) const;

    const uint8_t* page_;
};

// PageIsNew: never initialized by PageInit, so it carries no checksum.
bool isNewPage(const uint8_t* page);
bool isAllZeroPage(const uint8_t* page);

// PostgreSQL's PageIsVerifiedExtended with checksums on, minus its header sanity checks: a
// new page is valid only if every byte is zero, any other page only if its checksum matches.
bool isPageValid(const uint8_t* page, uint32_t blockNumber);

}  // namespace backrest::pg
