/*
 * postgres.c -- the postgres plugin's descriptor: a source (pg_source.c)
 * and a sink (pg_sink.c) on libpq, with their declared options.
 * docs/POSTGRES.md is the user's guide.
 */
#include "config.h"

#include "pg_plugin.h"

static const mk_option_decl source_options[] = {
    {"conninfo", MK_OPT_STRING, 0, "",
     "libpq connection string or postgresql:// URI (empty: the PG* environment); the password "
     "comes from PGPASSWORD, PGPASSFILE or ~/.pgpass and is never logged"},
    {"table", MK_OPT_STRING, 0, NULL, "table to read: table or schema.table (identifiers, not SQL)"},
    {"query", MK_OPT_STRING, 0, NULL, "a SELECT to read instead of a table"},
    {"columns", MK_OPT_LIST, 0, NULL, "columns to read (default: all)"},
    {"where", MK_OPT_STRING, 0, NULL, "an SQL condition on the table's rows (with table)"},
    {"encoding", MK_OPT_STRING, 0, "utf-8",
     "text stored as legacy bytes (SQL_ASCII/LATIN1 databases): tcvn3, vni, cp1258, ..., auto; "
     "utf-8 (the default) or bytes (no decoding); see docs/ENCODINGS.md"},
    {"on_invalid", MK_OPT_STRING, 0, "reject",
     "bytes invalid in the encoding: reject (the row) or replace (with U+FFFD, counted)",
     "reject|replace"},
    {"incremental", MK_OPT_LIST, 0, NULL,
     "high-water mark columns, most significant first: read only rows above the last mark"},
    {"lookback", MK_OPT_STRING, 0, NULL,
     "incremental: also read again the rows whose first mark column (a time) is within this "
     "interval below the mark (\"15 minutes\"): catches late commits; use an upsert sink"},
    {"shard_key", MK_OPT_STRING, 0, NULL,
     "a unique, never NULL column (the primary key) whose ranges shards read (mekong plan); "
     "the source then reads ORDER BY it, in one run too, so record numbers agree"},
    {"shard_plan", MK_OPT_STRING, 0, NULL, "set by mekong plan: find the cuts for N shards"},
    {"shard_from", MK_OPT_STRING, 0, NULL, "set by mekong run --shard: the range's first key"},
    {"shard_to", MK_OPT_STRING, 0, NULL, "set by mekong run --shard: the key after the range"},
    {"shard_record", MK_OPT_STRING, 0, NULL, "set by mekong run --shard: rows before the range"},
    {"shard_rows", MK_OPT_STRING, 0, NULL, "set by mekong run --shard: rows the range held"},
    {"shard_state", MK_OPT_STRING, 0, NULL,
     "set by mekong plan and run --shard (incremental): the stored mark the plan read"},
    {"shard_after", MK_OPT_LIST, 0, NULL,
     "set by mekong run --shard (incremental): the tuple before the range (none: the mark)"},
    {"shard_upto", MK_OPT_LIST, 0, NULL,
     "set by mekong run --shard (incremental): the range's last tuple (none: no rows)"},
    {NULL, 0, 0, NULL, NULL},
};

static const mk_option_decl sink_options[] = {
    {"conninfo", MK_OPT_STRING, 0, "",
     "libpq connection string or postgresql:// URI (empty: the PG* environment)"},
    {"table", MK_OPT_STRING, 1, NULL, "table to load: table or schema.table (identifiers, not SQL)"},
    {"mode", MK_OPT_STRING, 0, "append",
     "append (insert), replace (the table's rows by the input's, definition kept) or upsert "
     "(insert, or update the input's columns of the row with the same key)",
     "append|replace|upsert"},
    {"key", MK_OPT_LIST, 0, NULL, "upsert: the conflict key (a unique index or constraint)"},
    {"create", MK_OPT_BOOL, 0, "false", "create the table when it does not exist"},
    {"types", MK_OPT_MAP, 0, NULL,
     "column types when creating ({birth_date: date}); others from the schema, else text"},
    {"shard_stage", MK_OPT_STRING, 0, NULL,
     "set by mekong run --shard: load the staging table mekong_shard.<this> instead"},
    {"shard_merge", MK_OPT_LIST, 0, NULL,
     "set by mekong merge: the staging tables to apply to the table, in shard order"},
    {"shard_merge_id", MK_OPT_STRING, 0, NULL, "set by mekong merge: the merge ledger's key"},
    {NULL, 0, 0, NULL, NULL},
};

static const mk_plugin postgres_plugin = {
    MK_PLUGIN_HEAD,
    "postgres",
    PACKAGE_VERSION,
    "PostgreSQL tables: read with COPY TO, loaded with COPY FROM in one transaction (libpq)",
    source_options,
    &pg_source_ops,
    NULL,
    NULL,
    sink_options,
    &pg_sink_ops,
};

const mk_plugin *mekong_plugin(void);

const mk_plugin *mekong_plugin(void)
{
    return &postgres_plugin;
}
