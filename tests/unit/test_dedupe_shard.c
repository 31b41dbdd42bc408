/*
 * test_dedupe_shard.c -- the file layout of dedupe across shards
 * (plugins/dedupe/dedupe_shard.h): numbers little-endian on every
 * machine, the keys header, which bucket a key goes to.
 */
#include "config.h"

#include <stdint.h>

#include "dedupe_shard.h"
#include "unit.h"

TEST(numbers_are_little_endian)
{
    unsigned char b[8];
    ds_put64(b, 0x0102030405060708ull);
    static const unsigned char want[8] = {8, 7, 6, 5, 4, 3, 2, 1};
    CHECK(memcmp(b, want, 8) == 0);
    CHECK(ds_get64(b) == 0x0102030405060708ull);
    ds_put64(b, UINT64_MAX);
    CHECK(ds_get64(b) == UINT64_MAX);
    ds_put32(b, 0xa1b2c3d4u);
    CHECK(b[0] == 0xd4 && b[3] == 0xa1);
    CHECK(ds_get32(b) == 0xa1b2c3d4u);
}

TEST(keys_header_layout)
{
    unsigned char h[DS_KEYS_HEADER];
    uint64_t probe[2];
    ds_keys_header(h, 3, 5, 8);
    ds_probe(probe);
    CHECK(memcmp(h, DS_KEYS_MAGIC, DS_MAGIC_LEN) == 0);
    CHECK_INT_EQ(ds_get32(h + 8), 3);
    CHECK_INT_EQ(ds_get32(h + 12), 5);
    CHECK_INT_EQ(ds_get32(h + 16), 8);
    CHECK_INT_EQ(ds_get32(h + 20), 0);
    CHECK(ds_get64(h + 24) == probe[0] && ds_get64(h + 32) == probe[1]);
    CHECK((probe[0] | probe[1]) != 0);
}

TEST(bucket_from_the_second_word)
{
    /* the first word places a key in the decide stage's table: a bucket
     * chosen from it would leave that table's low bits all alike */
    uint64_t a[2] = {0, 7}, b[2] = {12345, 7}, c[2] = {0, 8};
    CHECK_INT_EQ(ds_bucket(a, 4), 3);
    CHECK_INT_EQ(ds_bucket(b, 4), 3);
    CHECK_INT_EQ(ds_bucket(c, 4), 0);
    CHECK_INT_EQ(ds_bucket(c, 1), 0);
}

int main(void)
{
    RUN(numbers_are_little_endian);
    RUN(keys_header_layout);
    RUN(bucket_from_the_second_word);
    UNIT_EXIT();
}
