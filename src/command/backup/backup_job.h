// One backup, in the three steps both drivers share: the CLI (over libpq) and the worker daemon
// (driven by the extension's backup bgworker) call begin(), then copy() after pg_backup_start,
// then finish() after pg_backup_stop. The job holds the stanza lock from begin() to its end;
// destroyed before finish() it leaves no manifest (the backup does not exist), and its files
// stay for the next backup of the same type to resume from.
//
// Each of the three is a short list of named steps, as pgBackRest's backup command:
// begin() = backupInit, backupPrior, backupLabel; copy() = backupManifest, planCopy,
// backupProcess; finish() = backupStopFiles, backupArchiveCheck, backupComplete.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "command/backup/backup_settings.h"
#include "command/backup/copy_plan.h"
#include "pg/control.h"
#include "repo/backup_resume.h"
#include "repo/info.h"
#include "repo/label_claim.h"
#include "repo/lock.h"
#include "repo/manifest.h"

namespace backrest::backup {

// A data directory file a backup will read whole (BackupJob::plannedReads).
struct PlannedRead {
    std::string path;    // relative to the data directory
    uint64_t size = 0;   // as scanned
    bool alone = false;  // stored alone (else in a bundle)
};

class BackupJob {
  public:
    explicit BackupJob(BackupSettings settings);
    ~BackupJob();

    // Takes the lock, checks the cluster in pgPath is the stanza's, removes remains of
    // interrupted backups, chooses the prior backup (diff: the latest full; incr: the latest
    // backup; none: the backup becomes full, with a warning) and the label.
    const std::string& begin(const std::string& type);
    // begin() in two steps, for one run into several repositories (backup --repo=all): open()
    // takes the lock and chooses the prior backup; freeLabelTime() is the time part of the label
    // this repository would give now; claimLabel() claims one no earlier than `notBefore` (the
    // latest of every repository's freeLabelTime, so that the label is the same in each).
    void open(const std::string& type);
    std::string freeLabelTime();
    const std::string& claimLabel(const std::string& notBefore);
    // Scans the data directory and copies every file in parallel. `progress` is called from
    // the copying threads, at most every ~0.5 s and once at the end; it may throw to abort.
    void copy(const BackupStart& start, const std::function<void(const BackupProgress&)>& progress);
    // copy() in two steps: prepare() scans the data directory and plans the copy, copyPlanned()
    // copies. Between them plannedReads() lists the data directory files the copy will read
    // whole from the start, each once: those stored alone, in the order it starts them (largest
    // first, then by name), then the bundles' files. Empty when an interrupted backup is
    // resumed (a file taken from it is not read).
    void prepare(const BackupStart& start);
    std::vector<PlannedRead> plannedReads() const;
    void copyPlanned(const std::function<void(const BackupProgress&)>& progress);
    // Stores backup_label / tablespace_map, waits for the WAL range in the archive, fsyncs,
    // writes the manifest and adds the backup to backup.info. Returns the committed manifest.
    const repo::Manifest& finish(const BackupStop& stop);

    // Withdraws a job begun but refused before copy() (a standby that does not follow the
    // primary): its label's directory, which holds only its claim, is removed, so the refusal
    // leaves nothing in the repository. Never throws; a failure is left to the next backup's
    // clean-up of interrupted ones.
    void abandonBeforeCopy() noexcept;
    // Makes copy() and finish() stop at the next file / poll with a Cancelled error.
    void cancel() { cancelled_ = true; }
    // Raises Cancelled once cancel() was called: for a driver's own waits between the steps.
    void checkCancelled() const { backup::checkCancelled(cancelled_, manifest_.label); }
    const std::string& label() const { return manifest_.label; }
    const std::string& type() const { return manifest_.type; }
    uint64_t systemId() const { return manifest_.systemId; }

  private:
    // begin()
    pg::ControlInfo backupInit(const std::string& type);
    void backupPrior(const std::string& type);
    void backupLabel(const std::string& notBefore);
    // copy()
    void backupManifest(const BackupStart& start);
    void backupProcess(const CopyPlan& plan, int64_t startTimestamp,
                       const std::function<void(const BackupProgress&)>& progress);
    // finish()
    void backupStopFiles(const BackupStop& stop);
    void storeGenerated(const std::string& name, const std::string& content);
    void backupArchiveCheck();
    void backupComplete();

    BackupSettings s_;
    std::shared_ptr<repo::StanzaLock> lock_;
    std::unique_ptr<repo::LabelClaim> claim_;  // the label, claimed in the repository
    repo::BackupInfo backupInfo_;
    std::optional<PriorBackup> prior_;
    std::optional<CopyPlan> plan_;  // prepare()'s
    std::optional<BackupStart> start_;
    std::optional<repo::ResumableBackup> resume_;  // an interrupted backup whose files we may take
    std::unique_ptr<repo::ResumeJournal> journal_;
    repo::ArchiveInfo archiveInfo_;
    repo::Manifest manifest_;
    std::atomic<bool> cancelled_{false};
    bool committed_ = false;
};

}  // namespace backrest::backup
