// Prometheus text exposition format 0.0.4 (worker/metrics_text.h).
#include "worker/metrics_text.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "common/error.h"

namespace backrest::cmd {

std::string escapeLabelValue(const std::string& value) {
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

std::string formatSampleValue(double value) {
    if (std::isnan(value)) return "NaN";
    if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
    // Byte counts and epoch seconds are integers below 2^53: printed whole, never as 1.7e+09.
    if (value == std::floor(value) && std::fabs(value) < 9007199254740992.0)
        return fmt::format("{}", static_cast<int64_t>(value));
    return fmt::format("{}", value);  // shortest text that reads back as the same double
}

void MetricsText::family(const std::string& name, Type type, const std::string& help) {
    if (std::any_of(families_.begin(), families_.end(),
                    [&](const Family& f) { return f.name == name; }))
        return;
    families_.push_back({name, help, type, {}});
}

void MetricsText::add(const std::string& name, const MetricLabels& labels, double value) {
    auto it = std::find_if(families_.begin(), families_.end(),
                           [&](const Family& f) { return f.name == name; });
    if (it == families_.end()) raise(ErrorCode::Assert, "metric {} was not declared", name);
    std::string sample = name;
    if (!labels.empty()) {
        sample += '{';
        for (size_t i = 0; i < labels.size(); i++)
            sample += fmt::format("{}{}=\"{}\"", i ? "," : "", labels[i].first,
                                  escapeLabelValue(labels[i].second));
        sample += '}';
    }
    it->samples.push_back(sample + " " + formatSampleValue(value));
}

std::string MetricsText::str() const {
    std::string out;
    for (const Family& f : families_) {
        if (f.samples.empty()) continue;  // a family without samples says nothing
        // HELP text escapes backslash and line feed only.
        std::string help;
        for (char c : f.help) help += c == '\\' ? "\\\\" : c == '\n' ? "\\n" : std::string(1, c);
        out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", f.name, help, f.name,
                           f.type == Type::Counter ? "counter" : "gauge");
        for (const auto& s : f.samples) out += s + "\n";
    }
    return out;
}

}  // namespace backrest::cmd
