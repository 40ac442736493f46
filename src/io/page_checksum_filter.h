// Observer filter that verifies the checksum of every 8 KiB page of a relation file as the
// file streams to the repository, and reports (never repairs or retries) the pages that fail.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "io/filter.h"
#include "pg/page_checksum.h"

namespace backrest::io {

class PageChecksumFilter : public Filter {
  public:
    // Beyond this many, failed pages are only counted (a wholly corrupt 1 GiB segment would
    // otherwise list 131072 of them).
    static constexpr size_t kMaxFailedPages = 1000;

    // `segmentNumber` is the ".N" of the file name: block numbers, which the checksum mixes
    // in, continue across segment files. Pages whose LSN is at or past `backupStartLsn` were
    // written after the backup started and WAL replay will rewrite them, so they are skipped
    // (a torn or half-written copy of such a page is expected, not corruption).
    PageChecksumFilter(uint32_t segmentNumber, uint64_t backupStartLsn);

    bool transforms() const override { return false; }
    void process(std::span<const uint8_t> in, Buffer& out) override;
    void finish(Buffer& out) override;

    // Results, complete after finish().
    // Page indexes within this file (not relation block numbers), ascending, at most
    // kMaxFailedPages of them.
    const std::vector<uint32_t>& failedPages() const { return failedPages_; }
    uint64_t failedCount() const { return failedCount_; }
    // Every whole page seen: the valid, the failed and the skipped.
    uint64_t pagesChecked() const { return pagesChecked_; }
    uint64_t pagesSkippedLsn() const { return pagesSkippedLsn_; }
    // The file ended inside a page (e.g. the relation was being extended as it was read);
    // those bytes were not verified.
    bool partialTail() const { return partialTail_; }

  private:
    void checkPage(const uint8_t* page);

    uint32_t segmentNumber_;
    uint64_t backupStartLsn_;
    std::array<uint8_t, pg::kPageSize> carry_;  // a page split across process() calls
    size_t carrySize_ = 0;
    std::vector<uint32_t> failedPages_;
    uint64_t failedCount_ = 0;
    uint64_t pagesChecked_ = 0;
    uint64_t pagesSkippedLsn_ = 0;
    bool partialTail_ = false;
};

// True for a relation data file in a backup manifest: "<relfilenode>[_fsm|_vm|_init][.<segment>]"
// directly under base/<db>/, global/ or pg_tblspc/<oid>/PG_*/<db>/ (with or without the
// "pg_data/" prefix). Sets *segmentNumber (if not null) to the ".N" suffix, 0 without.
// pg_filenode.map, pg_internal.init, PG_VERSION, pg_control, temporary relations and files
// elsewhere are not relation files.
bool isRelationFile(std::string_view manifestName, uint32_t* segmentNumber);

}  // namespace backrest::io
