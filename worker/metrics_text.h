// Prometheus text exposition format 0.0.4: samples gathered under their family (one # HELP and
// # TYPE line each, families in the order first added), label values escaped, numbers printed
// so a parser reads them back exactly.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace backrest::cmd {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class MetricsText {
  public:
    enum class Type { Gauge, Counter };

    // Declares a family; a sample of an undeclared family is a programming error (thrown).
    void family(const std::string& name, Type type, const std::string& help);
    void add(const std::string& name, const MetricLabels& labels, double value);
    std::string str() const;

  private:
    struct Family {
        std::string name, help;
        Type type;
        std::vector<std::string> samples;
    };
    std::vector<Family> families_;
};

// A label value as the format escapes it: backslash, double quote and line feed.
std::string escapeLabelValue(const std::string& value);
// A sample value: integers without a fraction, others with enough digits to round-trip;
// NaN and the infinities as the format spells them.
std::string formatSampleValue(double value);

}  // namespace backrest::cmd
