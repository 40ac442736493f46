// Parsing and applying --annotation options.
#include "repo/annotation.h"

#include "common/error.h"

namespace backrest::repo {

AnnotationChanges parseAnnotations(const std::vector<std::string>& options,
                                   const std::string& command) {
    AnnotationChanges changes;
    for (const auto& option : options) {
        size_t eq = option.find('=');
        if (eq == std::string::npos || eq == 0)
            raise(ErrorCode::Option,
                  "{}: --annotation='{}' is not key=value (an empty value removes the key)",
                  command, option);
        std::string value = option.substr(eq + 1);
        changes[option.substr(0, eq)] =
            value.empty() ? std::nullopt : std::optional<std::string>(value);
    }
    return changes;
}

std::map<std::string, std::string> applyAnnotations(std::map<std::string, std::string> annotations,
                                                    const AnnotationChanges& changes) {
    for (const auto& [key, value] : changes) {
        if (value)
            annotations[key] = *value;
        else
            annotations.erase(key);
    }
    return annotations;
}

}  // namespace backrest::repo
