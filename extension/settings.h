// The backrest.* settings (GUCs) and what the rest of the extension derives from them: the
// daemon's socket, and the checks every SQL function makes before it does anything.
#pragma once

#include <string>

namespace backrest::ext {

// The GUC variables, owned by PostgreSQL's GUC machinery once defineSettings() has run.
struct Settings {
    char* stanza = nullptr;
    char* config = nullptr;
    char* socketDirectory = nullptr;
    char* workerPath = nullptr;
    bool archiveAsync = false;
    int archiveTimeout = 60;  // seconds
    char* database = nullptr;
    char* schedule = nullptr;     // backrest.schedule (common/cron_schedule.h)
    bool scheduleCatchup = true;  // backrest.schedule_catchup
};
extern Settings settings;

// Defines the backrest.* GUCs and reserves the prefix (the PGC_POSTMASTER ones and the prefix
// only while preloading). Called by _PG_init.
void defineSettings(bool preloading);

// True when the library was loaded by shared_preload_libraries (the launcher, the shared
// memory and the daemon exist only then).
bool preloaded();
void setPreloaded();

// SqlError with a hint unless preloaded; `what` names the caller ("backrest_backup()").
void requirePreloaded(const char* what);
// The stanza, or SqlError with a hint when backrest.stanza is empty.
std::string requireStanza(const char* what);

// The directory the daemon listens in: backrest.socket_directory, or by default
// "<first unix_socket_directories entry>/backrest.<port>" (one per server on the host).
std::string socketDirectory();
// The daemon's socket: "<socketDirectory()>/backrest.sock" (doc/protocol.md).
std::string socketPath();

}  // namespace backrest::ext
