// Keeping backup.info's list of backups equal to the complete backups in the repository.
//
// backup.info is rewritten whole (read, change, write): two commands writing it at one moment —
// backups of one stanza started from two hosts, whose lock-path cannot see each other — keep
// only the second one's change, so a backup that said it completed could be missing from the
// list (seen in a CI run of attack17). Two defences, as pgBackRest's backup.info reconstruction:
// - listBackup writes and then reads back, and writes again while its backup is missing;
// - reconcileBackupInfo, run by backup and expire under the stanza lock, lists again a complete
//   backup the list lost and drops an entry whose directory is gone (an expire interrupted after
//   it removed the directory, or a directory removed by hand).
#pragma once

#include <string>

#include "repo/info.h"
#include "repo/layout.h"
#include "storage/storage.h"

namespace backrest::repo {

// Adds `summary` to backup.info (replacing an entry of its label) and checks by reading it back
// that it is listed; while it is not (another command rewrote the file at the same moment), adds
// it again, a few times, then raises naming the backup.
void listBackup(storage::Storage& repo, const Layout& layout, const BackupSummary& summary);

// Brings `info` in line with the backup directories (one listing of backup/<stanza>/): a
// directory with a manifest that loads, of a database in the history, whose prior and references
// are listed and whose own files are all there, is added; an entry without a directory is removed.
// Each change is logged as a warning naming the backup. true when `info` changed (the caller saves
// it).
bool reconcileBackupInfo(storage::Storage& repo, const Layout& layout, BackupInfo& info);

}  // namespace backrest::repo
