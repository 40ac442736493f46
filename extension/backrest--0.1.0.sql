-- backrest 0.1.0: the SQL interface (grows with the extension issue).
\echo Use "CREATE EXTENSION backrest" to load this file. \quit

CREATE FUNCTION backrest_version() RETURNS text
    AS 'MODULE_PATHNAME', 'backrest_version'
    LANGUAGE C STRICT;
REVOKE ALL ON FUNCTION backrest_version() FROM PUBLIC;
