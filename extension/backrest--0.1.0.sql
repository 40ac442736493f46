-- backrest 0.1.0: the SQL interface. Every function needs backrest in shared_preload_libraries
-- (it says so otherwise) and is revoked from PUBLIC: a backup reads every file of the cluster and
-- the repository holds them all, so who may drive it is the DBA's explicit decision.
--
-- A non-superuser backup role needs, granted by a superuser:
--   CREATE ROLE backup LOGIN;  -- LOGIN: the backup bgworker connects as the calling role
--   GRANT EXECUTE ON FUNCTION backrest_backup(text, boolean, integer), backrest_status(),
--       backrest_cancel(text), backrest_info(), backrest_archive_status(),
--       backrest_expire(boolean, text),
--       backrest_drill(text, text, text, integer, boolean) TO backup;
--   -- in the database named by backrest.database (default postgres), where the backup
--   -- bgworker runs them:
--   GRANT EXECUTE ON FUNCTION pg_backup_start(text, boolean), pg_backup_stop(boolean) TO backup;
-- and CONNECT on that database (PUBLIC has it by default).
-- backrest_stanza_create() writes the stanza's identity into the repository: keep it for
-- superusers unless a role is meant to set repositories up.
\echo Use "CREATE EXTENSION backrest" to load this file. \quit

CREATE FUNCTION backrest_version() RETURNS text
    AS 'MODULE_PATHNAME', 'backrest_version'
    LANGUAGE C STRICT;

-- Starts a backup in a background worker and returns its label once the repository has given
-- it one; with wait => true, returns when the backup is committed (or raises its error). repo =>
-- N backs up into repoN (NULL: the first configured, as backup without --repo).
CREATE FUNCTION backrest_backup(type text DEFAULT 'full', wait boolean DEFAULT false,
                                repo integer DEFAULT NULL) RETURNS text
    AS 'MODULE_PATHNAME', 'backrest_backup'
    LANGUAGE C;

-- Starts a restore drill (backrest drill, run by the daemon) in a background worker and returns
-- the drill's id once it holds its directory: an unset drill-path, a bad target or another drill
-- of the stanza is this call's error. With wait => true, returns when the drill passed (or
-- raises its error). set, type, target and repo are the drill's --set, --type, --target and
-- --repo (NULL: not given); drill-path and drill-port come from the stanza's configuration.
CREATE FUNCTION backrest_drill(set text DEFAULT NULL, type text DEFAULT NULL,
                               target text DEFAULT NULL, repo integer DEFAULT NULL,
                               wait boolean DEFAULT false) RETURNS text
    AS 'MODULE_PATHNAME', 'backrest_drill'
    LANGUAGE C;

-- The backup and drill jobs of this server since it started (the last 16), live from shared memory.
CREATE FUNCTION backrest_status()
    RETURNS TABLE(label text, type text, state text, phase text, bytes_total bigint, bytes_done bigint,
                  files_total bigint, files_done bigint, started timestamptz, finished timestamptz,
                  error text, pid int, repo text)
    AS 'MODULE_PATHNAME', 'backrest_status'
    LANGUAGE C;

-- backrest.schedule as the launcher runs it: each entry's next run and last outcome (state:
-- waiting, due = waiting for a running backup to end, running, standby = not run here).
CREATE FUNCTION backrest_schedule()
    RETURNS TABLE(entry int, type text, schedule text, state text, next_run timestamptz,
                  last_run timestamptz, last_label text, last_result text, last_detail text,
                  note text)
    AS 'MODULE_PATHNAME', 'backrest_schedule'
    LANGUAGE C;

-- Cancels the running backup (or drill: its id) with this label; false when no running job has it.
CREATE FUNCTION backrest_cancel(label text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'backrest_cancel'
    LANGUAGE C STRICT;

-- The stanza's backups in every repository, `repo` naming whose, with the result and end of
-- each one's newest restore drill (backrest drill; null when none is kept). A repository that
-- cannot be read is one row with only `repo` and `error` set (the others' backups are listed
-- beside it); every one unreadable is an error.
CREATE FUNCTION backrest_info()
    RETURNS TABLE(label text, type text, prior text, start_time timestamptz, stop_time timestamptz,
                  start_lsn pg_lsn, stop_lsn pg_lsn, wal_start text, wal_stop text, size bigint,
                  repo_size bigint, repo text, error text, drill_result text,
                  drill_time timestamptz)
    AS 'MODULE_PATHNAME', 'backrest_info'
    LANGUAGE C;

-- WAL archiving as the daemon sees it: last success, last failure, segments waiting.
CREATE FUNCTION backrest_archive_status()
    RETURNS TABLE(last_archived text, last_archived_time timestamptz, last_failure text,
                  last_failure_time timestamptz, last_failure_message text, pending bigint,
                  pushed bigint, async boolean, stream text, streamed bigint)
    AS 'MODULE_PATHNAME', 'backrest_archive_status'
    LANGUAGE C;

-- Creates the stanza (records this cluster's version and system identifier in the repository);
-- idempotent for this cluster, refused for a repository of another one.
CREATE FUNCTION backrest_stanza_create() RETURNS text
    AS 'MODULE_PATHNAME', 'backrest_stanza_create'
    LANGUAGE C;

-- Removes backups past repo1-retention-full / -diff (with the backups that depend on them) and
-- WAL no retained backup needs; returns what was removed. dry_run => true only reports. set =>
-- '<label>' expires that backup (and the ones depending on it) in every repository holding it.
CREATE FUNCTION backrest_expire(dry_run boolean DEFAULT false, set text DEFAULT NULL) RETURNS text
    AS 'MODULE_PATHNAME', 'backrest_expire'
    LANGUAGE C;

REVOKE ALL ON FUNCTION backrest_version() FROM PUBLIC;
REVOKE ALL ON FUNCTION backrest_backup(text, boolean, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION backrest_drill(text, text, text, integer, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION backrest_status() FROM PUBLIC;
REVOKE ALL ON FUNCTION backrest_schedule() FROM PUBLIC;
REVOKE ALL ON FUNCTION backrest_cancel(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION backrest_info() FROM PUBLIC;
REVOKE ALL ON FUNCTION backrest_archive_status() FROM PUBLIC;
REVOKE ALL ON FUNCTION backrest_stanza_create() FROM PUBLIC;
REVOKE ALL ON FUNCTION backrest_expire(boolean, text) FROM PUBLIC;
