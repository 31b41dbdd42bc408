/*
 * dp_plugin.h -- what the datapackage sink's files share: the sink's state,
 * its data files, the descriptor (dp_descriptor.c) and the folder helpers.
 */
#ifndef MEKONG_DP_PLUGIN_H
#define MEKONG_DP_PLUGIN_H

#include <nettle/sha2.h>
#include <stddef.h>
#include <stdint.h>

#include "mekong.h"
#include "mekong_kit.h"
#include "pipefile.h"

/* A data file of the package: written through its own buffer, which also
 * feeds the byte count and the sha256. */
typedef struct dp_out {
    int fd;
    char *buf;
    size_t len;
    int failed;          /* errno of the first failed write */
    int unhashed;        /* a shard's part: the merge hashes the joined file */
    uint64_t bytes;
    struct sha256_ctx sha;
    char hex[2 * SHA256_DIGEST_SIZE + 1];
    char path[4200], file[300];
} dp_out;

/* An input named in sources: (or seen in the rows' origins). */
typedef struct dp_source {
    char *step, *agency, *file;
} dp_source;

/* One of the run's own files (rejects, reports), copied into the package. */
typedef struct dp_runfile {
    dp_out out;
    const char *kind, *format, *mediatype;
    const mk_schema *columns; /* CSV rejects: the header (the host's, for the run) */
    uint64_t rows;            /* rejects */
} dp_runfile;

typedef struct dp_sink {
    mk_context *ctx;
    const mk_host *host;
    const char *final;     /* the package folder */
    char tmp[4200];        /* written here, renamed to final on commit */
    const char *resource;
    char name[256];
    dp_out csv, jsonl;
    int jsonl_on;
    const mk_schema *columns;
    mkk_colmap *map;
    uint64_t rows;
    cfg_node *declared;    /* the schema option's tree, or NULL */
    dp_source *sources;
    size_t nsources;
    int with_rejects, with_report; /* the run's own files as resources */
    dp_runfile runfiles[4];
    size_t nrunfiles;
    /* shards (dp_shard.c, docs/SCALE.md): shard_part: a shard's part
     * (data files and part.json, no descriptor); adopted: the merge's
     * package, its data files the shards' parts joined by the engine */
    int shard_part, adopted;
    mk_schema adopted_columns; /* the first part's columns (names, types) */
    char **adopted_names;
    mk_type *adopted_types;
} dp_sink;

int dp_put(dp_out *o, const char *p, size_t n);
/* Copy the file at path into the package folder as file (counted, hashed). */
int dp_copy_in(dp_sink *s, dp_out *o, const char *path, const char *file);
/* Flush, fsync and close o; its hex sha256 into o->hex.  0 or -1. */
int dp_out_close(dp_out *o);
/* Open o as file in folder dir, empty, with its own buffer.  0 or -1. */
int dp_out_open(dp_out *o, const char *dir, const char *file);
int dp_write_failed(dp_sink *s, const dp_out *o);

/* dp_descriptor.c */
int dp_read_metadata(dp_sink *s);
void dp_free_metadata(dp_sink *s);
void dp_note_source(dp_sink *s, const char *step, const char *file);
/* The declared schema's fields against the first batch's columns. */
int dp_check_declared(dp_sink *s);
/* No rows came: the header from the declared schema (none: empty file). */
int dp_header_from_declared(dp_sink *s);
int dp_write_descriptor(dp_sink *s);

/* dp_shard.c: a shard's part.json (rows, columns, sources noted) into the
 * temporary folder; the merge's package from the joined data files
 * (shard_joined) and every shard's part.json (shard_parts).  MK_OK or an
 * error (said). */
int dp_shard_write_part(dp_sink *s);
int dp_shard_adopt(dp_sink *s);
void dp_shard_free(dp_sink *s);

/* Folders. */
int dp_make_parents(const char *path);
int dp_sync_parent(const char *path);
void dp_remove_tree(const char *path);
int dp_publish_folder(const char *tmp, const char *final, char *err, size_t errlen);

#endif
