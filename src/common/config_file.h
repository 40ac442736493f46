// The config files: the INI file (--config) and the *.conf files of its include directory
// (--config-include-path, pgBackRest's conf.d), read as one file in pgBackRest's order.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/option_value.h"

namespace backrest {

struct IniEntry {
    std::string file;  // the file the line is in, for messages
    std::string section;
    std::string key;
    std::string value;
    int line;
};

// Which files to read. pgBackRest's rules: a missing default file or default include directory
// is no error, a missing given one is; a given --config without --config-include-path reads no
// include directory (so a test's or a cron line's own file is all that is read).
struct ConfigFileSet {
    std::string path;
    bool pathGiven = false;
    std::string includePath;
    bool includePathGiven = false;
};

// The config file's entries, then those of every *.conf file of the include directory, in
// ascending byte order of their names. The whole of each file is read so a malformed line is
// reported even in sections the command does not read; errors name the file and the line.
std::vector<IniEntry> readConfigFiles(const ConfigFileSet& files);

// The values each option takes from the files: those of the most specific of `sections` that
// sets it (as if the files were one, pgBackRest's "concatenated"). An option set twice in one
// section is an error naming both places, in one file or two; a multi option collects its lines.
OptionValues resolveConfigFiles(const std::vector<IniEntry>& entries,
                                const std::vector<std::string>& sections);

// A passphrase of an encrypted repository in a file every user of the host reads protects
// nothing: refused, naming the file and the chmod that fixes it.
void refuseReadableCipherPass(const std::vector<IniEntry>& entries);

}  // namespace backrest
