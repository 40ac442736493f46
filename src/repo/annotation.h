// pgBackRest's backup annotations: `--annotation=key=value` given to backup (stored with the new
// backup) or to annotate (an existing one: a value adds or changes the key, an empty value
// removes it). Shown by info; kept in the manifest and copied into backup.info.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace backrest::repo {

// key → new value; nullopt (from "key=") removes the key. OptionError for a value without '='
// or with an empty key, naming it; a key given twice keeps its last value, as pgBackRest does.
using AnnotationChanges = std::map<std::string, std::optional<std::string>>;
AnnotationChanges parseAnnotations(const std::vector<std::string>& options,
                                   const std::string& command);

// The annotations after the changes; removing a key that is not there is no error.
std::map<std::string, std::string> applyAnnotations(std::map<std::string, std::string> annotations,
                                                    const AnnotationChanges& changes);

}  // namespace backrest::repo
