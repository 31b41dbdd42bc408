/*
 * dedupe_shard.h -- the files of dedupe across shards (docs/SCALE.md,
 * "dedupe across shards"): what the keys stage writes, what the decide
 * stage reads and writes, what a shard's dedupe step then reads.  Shared
 * by the dedupe plugin (plugins/dedupe/dedupe_shard.c: it writes keys and
 * reads duplicates) and the engine (engine/run/shard_dedupe.c: the decide
 * stage), so the layout is written down once.
 *
 * Every number is 8 bytes little-endian (4 where said), whatever the
 * machine; a header carries the hash of a fixed probe key, because key
 * hashes (mkk_key_hash) follow the machine and the mekong version, and a
 * bucket must be decided with the hashes its keys were written with.
 *
 *   shard-I/keys/bucket-B.keys  (keys stage of shard I, bucket B of N)
 *     "MKDKEY01" u32 shard u32 bucket u32 buckets u32 0  u64 probe[2]
 *     records of 32 bytes: u64 hash[2], u64 seq (the row's number among
 *     the rows reaching dedupe in shard I, from 0), u64 origin (below)
 *     "MKDKEND1" u64 records
 *   shard-I/keys/origins.keys   (the keys stage of shard I)
 *     "MKDORG01" u32 shard u32 buckets u64 rows (reaching dedupe) u64 n
 *     n origins: u32 length of the source name, its bytes, u32 length of
 *     the file name (NO_TEXT: none), its bytes
 *     "MKDOEND1"
 *   bucket-B/duplicates         (decide stage of bucket B)
 *     "MKDDUP01" u32 bucket u32 shards
 *     for each shard J in order, its duplicates sorted by seq, 16 bytes
 *     each: u64 seq, u64 origin of the first occurrence
 *     footer: for each J: u64 offset, u64 count, u64 rows of J; u64 n and
 *     n origins as above; then u64 offset of the footer, "MKDDEND1"
 *
 * An origin is dedupe's payload: origin table index << 49 | 1 << 48 when
 * the number is a line | the record (or line) number.  In keys files the
 * index is into the shard's table, in a duplicates file into its own.
 */
#ifndef MEKONG_DEDUPE_SHARD_H
#define MEKONG_DEDUPE_SHARD_H

#include <stdint.h>
#include <string.h>

#include "mekong_kit.h"

#define DS_KEYS_MAGIC "MKDKEY01"
#define DS_KEYS_END "MKDKEND1"
#define DS_ORIGINS_MAGIC "MKDORG01"
#define DS_ORIGINS_END "MKDOEND1"
#define DS_DUPS_MAGIC "MKDDUP01"
#define DS_DUPS_END "MKDDEND1"
#define DS_MAGIC_LEN 8
#define DS_KEYS_HEADER 40
#define DS_KEY_RECORD 32
#define DS_DUP_RECORD 16
#define DS_NO_TEXT 0xffffffffu
#define DS_ORIGIN_BITS 15
#define DS_ORIGIN_UNKNOWN ((1u << DS_ORIGIN_BITS) - 1)
#define DS_ORIGIN_SHIFT 49

static inline void ds_put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static inline uint64_t ds_get64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static inline void ds_put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static inline uint32_t ds_get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The hash of a fixed key: equal on two machines when their hashes are. */
static inline void ds_probe(uint64_t out[2])
{
    static const char text[] = "mekong dedupe shard probe 0793";
    mk_value v = {text, sizeof text - 1};
    mkk_key_hash(&v, 1, out);
}

/* The bucket of a key hash among n: from the second word, since the first
 * places the key in the decide stage's table (mkk_keyset). */
static inline uint32_t ds_bucket(const uint64_t h[2], uint32_t n)
{
    return (uint32_t)(h[1] % n);
}

/* The header of bucket file b of shard s (DS_KEYS_HEADER bytes). */
static inline void ds_keys_header(unsigned char *p, uint32_t s, uint32_t b, uint32_t n)
{
    uint64_t probe[2];
    ds_probe(probe);
    memcpy(p, DS_KEYS_MAGIC, DS_MAGIC_LEN);
    ds_put32(p + 8, s);
    ds_put32(p + 12, b);
    ds_put32(p + 16, n);
    ds_put32(p + 20, 0);
    ds_put64(p + 24, probe[0]);
    ds_put64(p + 32, probe[1]);
}

#endif
