/*
 * test_pg_shard.c -- unit tests of the postgres plugin's shard parts that
 * need no server: where the cuts fall (whole batches, never at the end),
 * the tuple an incremental source is cut by, and how a staging table's
 * name in a server message becomes the target's.  The server side is
 * tests/scripts/shards-pg.sh and shards-pg-inc.sh.  pg_shard.c is included
 * so its static functions are tested as they are.
 */
#include "config.h"

#include <stdlib.h>

#include "../../plugins/postgres/pg_shard.c"
#include "unit.h"

TEST(cuts_at_whole_batches)
{
    CHECK_INT_EQ(cut_position(1, 4, 20000, 1024), 5120); /* 5000 rounded to a batch */
    CHECK_INT_EQ(cut_position(2, 4, 20000, 1024), 10240);
    CHECK_INT_EQ(cut_position(3, 4, 20000, 1024), 15360);
    CHECK_INT_EQ(cut_position(1, 4, 20000, 1), 5000);
    CHECK_INT_EQ(cut_position(3, 4, 1000, 1024), 0); /* up would be past the end: down */
    CHECK_INT_EQ(cut_position(3, 4, 1020, 1024), 0);
    CHECK_INT_EQ(cut_position(1, 4, 0, 1024), 0);
    CHECK_INT_EQ(cut_position(1, 4, 1000, 1024), 0);
    CHECK_INT_EQ(cut_position(1, 3, 10000000000LL, 1024), 3333332992LL);
}

TEST(incremental_tuple_ends_with_the_key)
{
    static const char *const ts[] = {"updated_at"}, *const ts_id[] = {"updated_at", "id"};
    pg_state_mark none = {0, NULL};
    pg_shard_inc one = {ts, 1, &none}, two = {ts_id, 2, &none};
    size_t n = 0;
    const char **t = pg_shard_inc_tuple(&one, "id", &n); /* ties split by the key */
    CHECK_INT_EQ(n, 2);
    CHECK_STR_EQ(t[0], "updated_at");
    CHECK_STR_EQ(t[1], "id");
    free(t);
    t = pg_shard_inc_tuple(&two, "id", &n); /* unique already: the key is not added again */
    CHECK_INT_EQ(n, 2);
    CHECK_STR_EQ(t[1], "id");
    free(t);
    t = pg_shard_inc_tuple(&one, NULL, &n); /* one run without shard_key: the columns alone */
    CHECK_INT_EQ(n, 1);
    free(t);
}

TEST(unstage_messages)
{
    static const char names[] = "plan_7_sink1_shard0\0cong_dan\0";
    char msg[200] = "new row for relation \"plan_7_sink1_shard0\" violates check constraint "
                    "\"cong_dan_tuoi_check\"";
    pg_shard_unstage(msg, sizeof msg, names);
    CHECK_STR_EQ(msg, "new row for relation \"cong_dan\" violates check constraint "
                      "\"cong_dan_tuoi_check\"");
    char idx[64] = "plan_7_sink1_shard0_pkey";
    pg_shard_unstage(idx, sizeof idx, names);
    CHECK_STR_EQ(idx, "cong_dan_pkey");
    static const char longer[] = "a\0much_longer_name\0";
    char small[12] = "a a a";
    pg_shard_unstage(small, sizeof small, longer); /* no room: left as it is, never past the end */
    CHECK_STR_EQ(small, "a a a");
}

int main(void)
{
    RUN(cuts_at_whole_batches);
    RUN(incremental_tuple_ends_with_the_key);
    RUN(unstage_messages);
    return unit_failed_tests ? 1 : 0;
}
