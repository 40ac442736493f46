// Page checksums of a backup's relation files; see page_check.h.
#include "command/backup/page_check.h"

#include <fcntl.h>
#include <unistd.h>

#include "pg/page_checksum.h"

namespace backrest::backup {

PageCheck pageCheckFor(const repo::ManifestFile& file, bool dataChecksums, uint64_t startLsn) {
    PageCheck check;
    if (dataChecksums && io::isRelationFile(file.name, &check.segment))
        check.filter.emplace(check.segment, startLsn);
    return check;
}

std::vector<uint32_t> recheckPages(const std::string& path, const std::vector<uint32_t>& pages,
                                   uint32_t segment, uint64_t startLsn) {
    std::vector<uint32_t> still;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return {};  // dropped since: nothing left to be wrong
    uint8_t page[pg::kPageSize];
    for (uint32_t index : pages) {
        ssize_t n = ::pread(fd, page, sizeof page, static_cast<off_t>(index) * pg::kPageSize);
        if (n != static_cast<ssize_t>(sizeof page)) continue;  // truncated since: replay fixes it
        if (pg::PageHeaderView(page).lsn() >= startLsn) continue;
        if (!pg::isPageValid(page, segment * pg::kRelationSegmentPages + index))
            still.push_back(index);
    }
    ::close(fd);
    return still;
}

}  // namespace backrest::backup
