-- The backrest extension from SQL: install, privileges, argument checks, then a full backup
-- through the daemon the launcher started (test/regress.sh sets the server up for it).
CREATE EXTENSION backrest;
SELECT backrest_version() ~ '^\d+\.\d+\.\d+$' AS version_ok;

-- Every function exists, and PUBLIC may execute none of them.
SELECT p.oid::regprocedure AS function, has_function_privilege('public', p.oid, 'EXECUTE') AS public_execute
  FROM pg_proc p
  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'backrest'
 ORDER BY 1::text;
SELECT has_function_privilege('public', 'backrest_backup(text,boolean,integer)', 'EXECUTE') AS public_may_backup;

-- The settings, as test/regress.sh configured them or by default.
SHOW backrest.stanza;
SHOW backrest.archive_async;
SHOW backrest.archive_timeout;
SHOW backrest.database;
SET backrest.stanza = 'other';
-- backrest.schedule: empty by default; a bad entry is refused naming it.
SHOW backrest.schedule;
SHOW backrest.schedule_catchup;
ALTER SYSTEM SET backrest.schedule = 'full 0 1 * * sun; weekly 0 1 * * *';
SELECT count(*) AS scheduled FROM backrest_schedule();
SET backrest.no_such_setting = 1;

-- A role without grants is refused.
CREATE ROLE regress_backrest_operator LOGIN;
SET ROLE regress_backrest_operator;
SELECT backrest_backup();
SELECT * FROM backrest_info();
RESET ROLE;

-- Bad arguments get clear errors, and start nothing.
SELECT backrest_backup('weekly');
SELECT backrest_backup(NULL);
SELECT backrest_backup(wait => NULL);
SELECT backrest_cancel('20000101-000000F') AS cancelled;
SELECT count(*) AS jobs FROM backrest_status();

-- The stanza, created through the daemon; creating it again is harmless.
SELECT backrest_stanza_create() ~ 'regress' AS stanza_created;
SELECT backrest_stanza_create() ~ 'regress' AS stanza_create_again;

-- With the documented grants the role runs a full backup and sees it committed.
GRANT EXECUTE ON FUNCTION backrest_backup(text, boolean, integer), backrest_status(), backrest_cancel(text),
    backrest_info(), backrest_archive_status(), backrest_expire(boolean, text) TO regress_backrest_operator;
-- pg_backup_start/stop run in the backup worker's database (backrest.database): grant them there.
\c postgres
GRANT EXECUTE ON FUNCTION pg_backup_start(text, boolean), pg_backup_stop(boolean) TO regress_backrest_operator;
\c regression
SET ROLE regress_backrest_operator;
SELECT backrest_backup(wait => true) ~ '^\d{8}-\d{6}F$' AS label_ok;
SELECT label ~ '^\d{8}-\d{6}F$' AS label_ok, type, state, phase, error,
       bytes_total > 0 AND bytes_done = bytes_total AS all_bytes,
       files_total > 0 AND files_done = files_total AS all_files,
       finished >= started AS timed, pid > 0 AS had_worker
  FROM backrest_status();
SELECT count(*) AS backups FROM backrest_info();
SELECT i.label = s.label AS same_label, i.type, i.prior,
       i.start_time <= i.stop_time AS times_ordered, i.start_lsn < i.stop_lsn AS lsns_ordered,
       i.wal_start <= i.wal_stop AS wal_ordered, i.size > 0 AS has_size, i.repo_size > 0 AS has_repo_size,
       i.drill_result IS NULL AND i.drill_time IS NULL AS no_drill
  FROM backrest_info() i, backrest_status() s;
SELECT last_archived IS NOT NULL AS archived, last_archived_time IS NOT NULL AS archived_time,
       pushed > 0 AS pushed, pending >= 0 AS pending_known, async
  FROM backrest_archive_status();
-- A finished backup cannot be cancelled.
SELECT backrest_cancel(label) AS cancelled FROM backrest_status();
-- An incremental backup on top of it references the full's unchanged files.
SELECT backrest_backup('incr', wait => true) ~ '^\d{8}-\d{6}F_\d{8}-\d{6}I$' AS incr_label_ok;
SELECT type, prior ~ '^\d{8}-\d{6}F$' AS prior_is_full, repo_size < size AS stores_less
  FROM backrest_info() ORDER BY label;
RESET ROLE;
-- Retention from SQL: nothing is configured, so nothing goes.
SELECT backrest_expire(dry_run => true) AS expire_report;

DROP OWNED BY regress_backrest_operator;
\c postgres
DROP OWNED BY regress_backrest_operator;
\c regression
DROP ROLE regress_backrest_operator;
DROP EXTENSION backrest;
