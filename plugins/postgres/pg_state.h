/*
 * pg_state.h -- the postgres source's incremental mark in the host's state
 * (mk_host.state_get/state_set): one JSON text per step,
 *     {"columns": ["updated_at", "id"], "values": ["2026-01-01 00:00:00+00", "7"]}
 * the columns the mark is for and the last row's values in them (text forms).
 */
#ifndef MEKONG_PG_STATE_H
#define MEKONG_PG_STATE_H

#include "mekong.h"
#include "pg_plugin.h"

typedef struct pg_state_mark {
    size_t nvalues; /* 0: no mark (first run, or --full-refresh) */
    char **values;
} pg_state_mark;

/* Read the stored mark for columns names[0..n) (in a shard plan or a
 * shard: from option shard_state, which the engine sets): MK_OK (m->nvalues 0 when
 * there is none), or MK_ERROR after host->error (a mark for other columns,
 * a state the plugin cannot read, a host without state). */
int pg_state_load(const mk_host *h, mk_context *ctx, const char *const *names, size_t n,
                  pg_state_mark *m);
/* The mark's JSON text, as state_set gets it, into *out (a new buffer):
 * 0, or -1 (out of memory). */
int pg_state_json(pg_buf *out, const char *const *names, const pg_buf *values, size_t n);
/* A JSON string for s[0..n) appended to b: 0, or -1. */
int pg_json_string(pg_buf *b, const char *s, size_t n);
/* Stage the new mark (the host writes it after every sink committed). */
int pg_state_save(const mk_host *h, mk_context *ctx, const char *const *names, const pg_buf *values,
                  size_t n);
void pg_state_mark_free(pg_state_mark *m);

#endif
