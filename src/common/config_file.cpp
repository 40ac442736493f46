// The config files: INI parsing, the include directory, and the choice of each option's value
// among the sections a command reads.
#include "common/config_file.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <string_view>
#include <tuple>

#include "common/error.h"
#include "common/foreign_options.h"
#include "common/log.h"

namespace backrest {

namespace {

std::string_view trim(std::string_view s) {
    auto space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
    while (!s.empty() && space(s.front())) s.remove_prefix(1);
    while (!s.empty() && space(s.back())) s.remove_suffix(1);
    return s;
}

// Appends the entries of one file. `required`: a missing file is an error, not an empty file.
void readIni(const std::string& path, bool required, std::vector<IniEntry>& entries) {
    std::error_code ec;
    auto status = std::filesystem::status(path, ec);
    if (status.type() == std::filesystem::file_type::not_found) {
        if (!required) return;
        raise(ErrorCode::Config, "config file '{}' does not exist", path);
    }
    if (std::filesystem::is_directory(status)) {
        raise(ErrorCode::Config, "config file '{}' is a directory", path);
    }
    std::ifstream in(path);
    if (!in) {
        raise(ErrorCode::Config, "unable to open config file '{}': {}", path, std::strerror(errno));
    }

    std::string section;
    std::string raw;
    for (int lineNo = 1; std::getline(in, raw); ++lineNo) {
        std::string_view line = trim(raw);
        if (line.empty() || line.front() == '#' || line.front() == ';') continue;
        if (line.front() == '[') {
            if (line.back() != ']' || trim(line.substr(1, line.size() - 2)).empty()) {
                raise(ErrorCode::Config, "config file '{}' line {}: malformed section header", path,
                      lineNo);
            }
            section = trim(line.substr(1, line.size() - 2));
            continue;
        }
        // The line itself is not quoted in errors: it may hold a password.
        size_t eq = line.find('=');
        if (eq == std::string_view::npos) {
            raise(ErrorCode::Config,
                  "config file '{}' line {}: expected 'key=value', '[section]' or a comment", path,
                  lineNo);
        }
        std::string_view key = trim(line.substr(0, eq));
        if (key.empty()) {
            raise(ErrorCode::Config, "config file '{}' line {}: missing option name before '='",
                  path, lineNo);
        }
        if (section.empty()) {
            raise(ErrorCode::Config, "config file '{}' line {}: option '{}' before any [section]",
                  path, lineNo, key);
        }
        entries.push_back(
            {path, section, std::string(key), std::string(trim(line.substr(eq + 1))), lineNo});
    }
    if (in.bad()) {
        raise(ErrorCode::Config, "unable to read config file '{}': {}", path, std::strerror(errno));
    }
}

// The *.conf files of the include directory, sorted: pgBackRest sorts them "for reproducibility"
// and so does backrest, though with duplicates refused the order only shows in multi options.
std::vector<std::string> includedFiles(const std::string& dir, bool required) {
    std::error_code ec;
    auto status = std::filesystem::status(dir, ec);
    if (status.type() == std::filesystem::file_type::not_found) {
        if (!required) return {};
        raise(ErrorCode::Config, "config include path '{}' (config-include-path) does not exist",
              dir);
    }
    if (!std::filesystem::is_directory(status))
        raise(ErrorCode::Config,
              "config include path '{}' (config-include-path) is not a directory", dir);
    std::vector<std::string> files;
    std::filesystem::directory_iterator it(dir, ec);
    if (ec)
        raise(ErrorCode::Config, "unable to list config include path '{}': {}", dir, ec.message());
    for (const auto& entry : it) {
        std::string name = entry.path().filename().string();
        if (name.size() > 5 && name.ends_with(".conf")) files.push_back(entry.path().string());
    }
    std::sort(files.begin(), files.end());
    return files;
}

}  // namespace

std::vector<IniEntry> readConfigFiles(const ConfigFileSet& files) {
    std::vector<IniEntry> entries;
    readIni(files.path, files.pathGiven, entries);
    if (files.pathGiven && !files.includePathGiven) return entries;
    for (const std::string& file : includedFiles(files.includePath, files.includePathGiven))
        readIni(file, true, entries);
    return entries;
}

OptionValues resolveConfigFiles(const std::vector<IniEntry>& entries,
                                const std::vector<std::string>& sections) {
    struct Chosen {
        size_t rank;
        std::vector<std::string> values;
    };
    std::map<std::string, Chosen, std::less<>> chosen;
    std::map<std::pair<std::string, size_t>, const IniEntry*> first;  // (option, section)
    std::set<std::string, std::less<>> warned;

    for (const IniEntry& e : entries) {
        auto section = std::find(sections.begin(), sections.end(), e.section);
        if (section == sections.end()) continue;
        size_t rank = static_cast<size_t>(section - sections.begin());

        const OptionDef* def = findOptionDef(e.key);
        if (def == nullptr) {
            // Files copied from pgBackRest carry options backrest does not implement: only the
            // harmless ones are skipped; one that changes what is stored or kept raises.
            if (warned.insert(e.key).second)
                checkForeignOption(e.key, e.value,
                                   fmt::format("config file '{}' line {}", e.file, e.line));
            continue;
        }
        // These choose which files and sections are read, so a file cannot set them.
        if (def->name == "stanza" || def->name == "config" || def->name == "config-include-path") {
            if (warned.insert(e.key).second)
                logWarn(
                    "config file '{}' line {}: ignoring option '{}' (only allowed on the command "
                    "line or in "
                    "the environment)",
                    e.file, e.line, e.key);
            continue;
        }
        std::string value = normalizeOptionValue(*def, e.value, "config file " + e.file);
        auto [earlier, isFirst] = first.try_emplace({e.key, rank}, &e);
        if (!isFirst && !def->multi) {
            const IniEntry& was = *earlier->second;
            raise(ErrorCode::Config,
                  "config file '{}' line {}: option '{}' is set more than once in section [{}] "
                  "(first {})",
                  e.file, e.line, e.key, e.section,
                  was.file == e.file ? fmt::format("on line {}", was.line)
                                     : fmt::format("in '{}' line {}", was.file, was.line));
        }
        auto [it, inserted] = chosen.try_emplace(e.key, Chosen{rank, {}});
        if (rank > it->second.rank) continue;
        if (rank < it->second.rank) it->second = Chosen{rank, {}};
        it->second.values.push_back(std::move(value));
    }

    OptionValues result;
    for (auto& [name, c] : chosen) result.emplace(name, std::move(c.values));
    return result;
}

// Group-readable is allowed: the 0640 root:postgres pattern of pgBackRest's /etc/pgbackrest.conf.
void refuseReadableCipherPass(const std::vector<IniEntry>& entries) {
    std::set<std::string> checked;
    for (const IniEntry& e : entries) {
        if (!isSecretOption(e.key) || e.key.find("cipher-pass") == std::string::npos) continue;
        if (!checked.insert(e.file).second) continue;
        struct stat st {};
        if (::stat(e.file.c_str(), &st) != 0)
            raise(ErrorCode::Config, "unable to stat config file '{}': {}", e.file,
                  std::strerror(errno));
        if ((st.st_mode & 0007) == 0) continue;
        raise(ErrorCode::Config,
              "config file '{}' holds a repository passphrase (cipher-pass) but has mode {:04o}, "
              "readable by every user of this host: run 'chmod 640 {}' (or 600)",
              e.file, st.st_mode & 07777, e.file);
    }
}

}  // namespace backrest
