/*
 * test_pg_sink.c -- unit tests of the postgres sink's parts that need no
 * server: COPY text escaping (read back by the source's splitter in
 * tests/scripts/pg.sh), the refused row's line in a CONTEXT, and how the
 * COPY unit shrinks and grows.  pg_sink.c is included so its static
 * functions are tested as they are.
 */
#include "config.h"

#include <stdlib.h>

#include "../../plugins/postgres/pg_sink.c"
#include "unit.h"

TEST(copy_escapes)
{
    pg_buf o = {0};
    static const char value[] = "tab\there\nnew\rcr \\ back \"q\" ạ";
    mk_value v = {value, sizeof value - 1}, null = {NULL, 0}, empty = {"", 0};
    CHECK_INT_EQ(add_value(&o, &v), 0);
    CHECK_STR_EQ(pg_buf_str(&o), "tab\\there\\nnew\\rcr \\\\ back \"q\" ạ");
    o.len = 0;
    CHECK_INT_EQ(add_value(&o, &null), 0);
    CHECK_INT_EQ(add_value(&o, &empty), 0);
    CHECK_STR_EQ(pg_buf_str(&o), "\\N");
    pg_buf_free(&o);
}

TEST(context_line)
{
    CHECK_INT_EQ(copy_line_of("COPY many, line 1501: \"1500,Người 1500\""), 1501);
    CHECK_INT_EQ(copy_line_of("PL/pgSQL function slow_row() line 1 at PERFORM\nCOPY t, line 7"), 7);
    CHECK_INT_EQ(copy_line_of("SQL statement \"INSERT ...\""), 0);
    CHECK_INT_EQ(copy_line_of(NULL), 0);
}

TEST(unit_shrinks_and_grows)
{
    pg_sink s;
    memset(&s, 0, sizeof s);
    adapt_chunk(&s, 10000, 1);
    CHECK_INT_EQ(s.chunk, 5000);
    adapt_chunk(&s, 5000, 1);
    adapt_chunk(&s, 2500, 1);
    adapt_chunk(&s, 1250, 1);
    adapt_chunk(&s, 625, 1);
    adapt_chunk(&s, 312, 1);
    CHECK_INT_EQ(s.chunk, 156);
    adapt_chunk(&s, 156, 1);
    CHECK_INT_EQ(s.chunk, 128); /* never below 128 rows */
    for (int i = 0; i < 3; i++)
        adapt_chunk(&s, 128, 0);
    CHECK_INT_EQ(s.chunk, 128);
    adapt_chunk(&s, 128, 0); /* the fourth clean unit doubles it */
    CHECK_INT_EQ(s.chunk, 256);
    for (int i = 0; i < 4 * 14; i++)
        adapt_chunk(&s, s.chunk, 0);
    CHECK_INT_EQ(s.chunk, 0); /* back to whole batches */
    adapt_chunk(&s, 1024, 0);
    CHECK_INT_EQ(s.chunk, 0);
}

int main(void)
{
    RUN(copy_escapes);
    RUN(context_line);
    RUN(unit_shrinks_and_grows);
    return unit_failed_tests ? 1 : 0;
}
