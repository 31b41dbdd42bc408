/*
 * schema_plugin.h -- what the schema plugin's files share: a set of key
 * hashes that can be asked without adding (foreignKeys lookups, 2025 code
 * tables), and reading the CSV files that fill them.
 *
 * mkk_keyset (the kit) answers "seen before?" by inserting; a lookup must
 * not learn the keys it is asked about, so lookups use sch_hset: open
 * addressing over 128-bit hashes, filled at open and then only read (safe
 * to share between threads once filled).
 */
#ifndef MEKONG_SCHEMA_PLUGIN_H
#define MEKONG_SCHEMA_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include "ts_schema.h"

typedef struct sch_hset {
    uint64_t (*slots)[2]; /* {0, 0}: empty (a real hash of {0, 0} is stored as {0, 1}) */
    size_t cap, count;
} sch_hset;

int sch_hset_add(sch_hset *s, const uint64_t h[2]);   /* 0, or -1 out of memory */
int sch_hset_has(const sch_hset *s, const uint64_t h[2]);
/* The hash of one text value (mkk_key_hash of one cell), looked up. */
int sch_hset_has_text(const sch_hset *s, const char *p, size_t n);
void sch_hset_free(sch_hset *s);

/* The values of column `column` of a CSV file (header first) into s.
 * 0, or -1 with the message in err. */
int sch_codes_load(sch_hset *s, const char *path, const char *column, char *err, size_t errlen);
/* A foreign key's reference: the reference fields of every record of the
 * CSV file at path, each read as the type of the local field it matches
 * (so "007" in the file finds the integer 7), hashed as key_hash does. */
int sch_lookup_load(sch_hset *s, const ts_schema *ts, const ts_fkey *fk, const char *path,
                    char *err, size_t errlen);

#endif
