// Timeline history files (repo/timeline_history.h).
#include "repo/timeline_history.h"

#include <algorithm>
#include <string>

#include "common/error.h"
#include "pg/wal.h"

namespace backrest::repo {

std::vector<TimelineSwitch> parseTimelineHistory(std::string_view text, std::string_view context) {
    std::vector<TimelineSwitch> out;
    size_t lineNo = 0;
    for (size_t pos = 0; pos < text.size();) {
        size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        std::string_view line = text.substr(pos, end - pos);
        pos = end + 1;
        lineNo++;
        size_t start = line.find_first_not_of(" \t\r");
        if (start == std::string_view::npos || line[start] == '#') continue;
        line = line.substr(start);
        size_t tab = line.find_first_of(" \t");
        std::string_view tli = line.substr(0, tab);
        std::string_view rest =
            tab == std::string_view::npos ? std::string_view{} : line.substr(tab);
        rest = rest.substr(std::min(rest.size(), rest.find_first_not_of(" \t")));
        std::string_view lsn = rest.substr(0, rest.find_first_of(" \t\r"));
        if (tli.empty() || tli.size() > 10 ||
            tli.find_first_not_of("0123456789") != std::string_view::npos || lsn.empty())
            raise(ErrorCode::Format, "timeline history {} line {} is malformed: '{}'", context,
                  lineNo, line);
        TimelineSwitch s;
        s.parent = static_cast<uint32_t>(std::stoul(std::string(tli)));
        try {
            s.switchLsn = pg::parseLsn(lsn);
        } catch (const Error& e) {
            raise(ErrorCode::Format, "timeline history {} line {}: {}", context, lineNo, e.what());
        }
        if (!out.empty() && s.parent <= out.back().parent)
            raise(ErrorCode::Format,
                  "timeline history {} line {}: timeline {} does not follow timeline {}", context,
                  lineNo, s.parent, out.back().parent);
        out.push_back(s);
    }
    return out;
}

}  // namespace backrest::repo
