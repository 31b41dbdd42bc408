/*
 * schema_plugin.h -- what the schema plugin's files share: a set of key
 * hashes that can be asked without adding (foreignKeys lookups, 2025 code
 * tables), and reading the CSV files that fill them.
 *
 * A lookup must not learn the keys it is asked about: sch_hset is the
 * kit's mkk_keyset, filled at open with mkk_keyset_insert and then asked
 * with mkk_keyset_find only (read only: safe to share between threads
 * once filled).
 */
#ifndef MEKONG_SCHEMA_PLUGIN_H
#define MEKONG_SCHEMA_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include "ts_schema.h"

typedef struct mkk_keyset mkk_keyset;
typedef struct sch_hset {
    mkk_keyset *ks; /* NULL until the first add */
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
