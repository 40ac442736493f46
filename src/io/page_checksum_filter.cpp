// Page checksum verification over a stream of arbitrary block sizes, and which manifest
// files are relation files (the only ones made of checksummed pages).
#include "io/page_checksum_filter.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "pg/backup_exclusions.h"

namespace backrest::io {

PageChecksumFilter::PageChecksumFilter(uint32_t segmentNumber, uint64_t backupStartLsn)
    : segmentNumber_(segmentNumber), backupStartLsn_(backupStartLsn) {}

void PageChecksumFilter::process(std::span<const uint8_t> in, Buffer&) {
    if (in.empty()) return;
    if (carrySize_ > 0) {
        size_t take = std::min(in.size(), carry_.size() - carrySize_);
        std::memcpy(carry_.data() + carrySize_, in.data(), take);
        carrySize_ += take;
        in = in.subspan(take);
        if (carrySize_ < carry_.size()) return;
        checkPage(carry_.data());
        carrySize_ = 0;
    }
    // Whole pages are checked where they lie; only a split page is copied.
    while (in.size() >= pg::kPageSize) {
        checkPage(in.data());
        in = in.subspan(pg::kPageSize);
    }
    std::memcpy(carry_.data(), in.data(), in.size());
    carrySize_ = in.size();
}

void PageChecksumFilter::finish(Buffer&) {
    partialTail_ = carrySize_ > 0;
}

void PageChecksumFilter::checkPage(const uint8_t* page) {
    uint32_t pageIndex = static_cast<uint32_t>(pagesChecked_++);

    // An all-zero page is a new page (an extension not yet written): valid without checksum.
    if (pg::isNewPage(page) && pg::isAllZeroPage(page)) return;
    if (pg::PageHeaderView(page).lsn() >= backupStartLsn_) {
        pagesSkippedLsn_++;
        return;
    }
    // Block numbers are 32 bits in PostgreSQL and wrap the same way.
    uint32_t blockNumber = segmentNumber_ * pg::kRelationSegmentPages + pageIndex;
    if (pg::isPageValid(page, blockNumber)) return;

    failedCount_++;
    if (failedPages_.size() < kMaxFailedPages) failedPages_.push_back(pageIndex);
}

namespace {

bool allDigits(std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Splits off the text before the next '/', or returns false if there is none.
bool nextComponent(std::string_view& path, std::string_view& component) {
    auto slash = path.find('/');
    if (slash == std::string_view::npos) return false;
    component = path.substr(0, slash);
    path.remove_prefix(slash + 1);
    return true;
}

// Strips the database (or tablespace version) directories; leaves the file name, or returns
// false if the path is not a place where relation files live.
bool relationDirectory(std::string_view& path) {
    std::string_view first, dir;
    if (path.starts_with("pg_data/")) path.remove_prefix(8);
    if (!nextComponent(path, first)) return false;
    if (first == "global") return true;
    if (first == "base") return nextComponent(path, dir) && allDigits(dir);
    if (first == "pg_tblspc")
        return nextComponent(path, dir) && allDigits(dir) &&  // tablespace oid
               nextComponent(path, dir) && dir.starts_with("PG_") && nextComponent(path, dir) &&
               allDigits(dir);  // database oid
    return false;
}

}  // namespace

bool isRelationFile(std::string_view manifestName, uint32_t* segmentNumber) {
    std::string_view name = manifestName;
    if (!relationDirectory(name) || name.find('/') != std::string_view::npos) return false;
    if (pg::relfilenodeOf(name).empty()) return false;

    uint32_t segment = 0;
    auto dot = name.find('.');
    if (dot != std::string_view::npos) {
        std::string_view digits = name.substr(dot + 1);
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), segment);
        if (ec != std::errc() || end != digits.data() + digits.size()) return false;
    }
    if (segmentNumber != nullptr) *segmentNumber = segment;
    return true;
}

}  // namespace backrest::io
