/*
 * test_pg.c -- unit tests of the postgres plugin's parsers that need no
 * server: the incremental mark's JSON (a file people may edit) and the
 * COPY text splitter.  pg_source.c is included, so its static functions
 * are tested as they are; the host is a fake with the calls they make.
 * tests/scripts/pg.sh tests the rest against a real server.
 */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>

#include "../../plugins/postgres/pg_source.c"
#include "unit.h"

/* ---- a fake host: state in a string, the last error kept ---------------- */

static char fake_state[4096];
static int fake_has_state;
static char fake_error[1024];

static const char *fake_state_get(mk_context *ctx)
{
    (void)ctx;
    return fake_has_state ? fake_state : NULL;
}

static int fake_state_set(mk_context *ctx, const char *json)
{
    (void)ctx;
    snprintf(fake_state, sizeof fake_state, "%s", json);
    fake_has_state = 1;
    return MK_OK;
}

static void fake_error_fn(mk_context *ctx, const char *fmt, ...)
{
    (void)ctx;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(fake_error, sizeof fake_error, fmt, ap);
    va_end(ap);
}

/* No option is set (not a shard plan, not a shard). */
static const char *fake_opt_string(mk_context *ctx, const char *name)
{
    (void)ctx;
    (void)name;
    return NULL;
}

static mk_host fake_host(void)
{
    mk_host h;
    memset(&h, 0, sizeof h);
    h.size = sizeof h;
    h.error = fake_error_fn;
    h.state_get = fake_state_get;
    h.state_set = fake_state_set;
    h.opt_string = fake_opt_string;
    return h;
}

static int load(const char *json, const char *const *names, size_t n, pg_state_mark *m)
{
    mk_host h = fake_host();
    snprintf(fake_state, sizeof fake_state, "%s", json);
    fake_has_state = 1;
    fake_error[0] = '\0';
    return pg_state_load(&h, NULL, names, n, m);
}

/* ---- the mark ----------------------------------------------------------------- */

TEST(mark_round_trip)
{
    mk_host h = fake_host();
    const char *names[] = {"updated_at", "Họ \"tên\""};
    pg_buf vals[2] = {{0}, {0}};
    pg_buf_adds(&vals[0], "2026-01-02 10:00:00+00");
    static const char odd[] = "a\"b\\c\n\x01 ạ";
    pg_buf_add(&vals[1], odd, sizeof odd - 1);
    fake_has_state = 0;
    CHECK_INT_EQ(pg_state_save(&h, NULL, names, vals, 2), MK_OK);
    pg_state_mark m;
    CHECK_INT_EQ(pg_state_load(&h, NULL, names, 2, &m), MK_OK);
    CHECK_INT_EQ(m.nvalues, 2);
    if (m.nvalues == 2) {
        CHECK_STR_EQ(m.values[0], "2026-01-02 10:00:00+00");
        CHECK_MEM_EQ(m.values[1], strlen(m.values[1]), vals[1].data, vals[1].len);
    }
    pg_state_mark_free(&m);
    pg_buf_free(&vals[0]);
    pg_buf_free(&vals[1]);
}

TEST(mark_none_is_no_mark)
{
    mk_host h = fake_host();
    const char *names[] = {"id"};
    fake_has_state = 0;
    pg_state_mark m;
    CHECK_INT_EQ(pg_state_load(&h, NULL, names, 1, &m), MK_OK);
    CHECK_INT_EQ(m.nvalues, 0);
}

TEST(mark_escapes)
{
    const char *names[] = {"id"};
    pg_state_mark m;
    CHECK_INT_EQ(load(" { \"values\" : [\"\\u1ea1\\ud83d\\ude00\\/\\t\"] , \"columns\":[\"id\"] } ",
                      names, 1, &m),
                 MK_OK);
    if (m.nvalues == 1)
        CHECK_STR_EQ(m.values[0], "ạ\xf0\x9f\x98\x80/\t");
    pg_state_mark_free(&m);
}

TEST(mark_refused)
{
    const char *names[] = {"id"};
    static const char *const bad[] = {
        "",
        "{}",
        "[1]",
        "{\"columns\": [\"id\"], \"values\": [\"1\", \"2\"]}",
        "{\"columns\": [\"id\"], \"values\": [\"1\"]} x",
        "{\"columns\": [\"id\"], \"values\": [\"1]}",
        "{\"columns\": [\"id\"], \"values\": [\"\\uZZZZ\"]}",
        "{\"columns\": [\"id\"], \"values\": [\"a\nb\"]}",
        "{\"columns\": [\"id\"], \"values\": [1]}",
        "{\"columns\": [\"id\"], \"other\": [\"1\"]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        pg_state_mark m;
        int rc = load(bad[i], names, 1, &m);
        if (rc != MK_ERROR)
            printf("# accepted: %s\n", bad[i]);
        CHECK_INT_EQ(rc, MK_ERROR);
        CHECK(strstr(fake_error, "--full-refresh") != NULL);
        CHECK_INT_EQ(m.nvalues, 0);
    }
}

/* A lone surrogate escape (never written by pg_state_save) decodes as
 * U+FFFD, as everywhere the engine reads JSON (the kit's decoder). */
TEST(mark_lone_surrogate)
{
    const char *names[] = {"id"};
    pg_state_mark m;
    CHECK_INT_EQ(load("{\"columns\": [\"id\"], \"values\": [\"\\udc00x\"]}", names, 1, &m), MK_OK);
    if (m.nvalues == 1)
        CHECK_STR_EQ(m.values[0], "\xef\xbf\xbdx");
    pg_state_mark_free(&m);
}

TEST(mark_for_other_columns)
{
    const char *names[] = {"updated_at", "id"};
    pg_state_mark m;
    CHECK_INT_EQ(load("{\"columns\": [\"updated_at\"], \"values\": [\"x\"]}", names, 2, &m), MK_ERROR);
    CHECK(strstr(fake_error, "other columns") != NULL);
}

/* ---- COPY text ------------------------------------------------------------------ */

static pg_source *splitter(size_t ncols)
{
    pg_source *s = calloc(1, sizeof(*s));
    s->ncols = ncols;
    s->fields = calloc(ncols, sizeof(*s->fields));
    return s;
}

static void free_splitter(pg_source *s)
{
    free(s->fields);
    free(s);
}

#define CHECK_FIELD(s, i, text) \
    CHECK_MEM_EQ((s)->fields[i].ptr, (s)->fields[i].len, text, sizeof(text) - 1)

TEST(copy_split)
{
    pg_source *s = splitter(5);
    char line[] = "plain\tb\\tc\\nd\\\\e\t\\N\t\t\\101\\x41\\q\\";
    CHECK_INT_EQ(split_line(s, line, sizeof line - 1), 0);
    CHECK_FIELD(s, 0, "plain");
    CHECK_FIELD(s, 1, "b\tc\nd\\e");
    CHECK(s->fields[2].ptr == NULL);     /* \N */
    CHECK(s->fields[3].ptr != NULL);     /* empty, not NULL */
    CHECK_INT_EQ(s->fields[3].len, 0);
    CHECK_FIELD(s, 4, "Ax41q\\"); /* octal read; \x taken as x; a lone last backslash kept */
    free_splitter(s);
}

TEST(copy_split_counts_fields)
{
    pg_source *s = splitter(2);
    char three[] = "a\tb\tc", one[] = "a", nul[] = "\\N\t\\\\N";
    CHECK_INT_EQ(split_line(s, three, sizeof three - 1), -1);
    CHECK_INT_EQ(split_line(s, one, sizeof one - 1), -1);
    CHECK_INT_EQ(split_line(s, nul, sizeof nul - 1), 0);
    CHECK(s->fields[0].ptr == NULL);
    CHECK_FIELD(s, 1, "\\N"); /* an escaped backslash then N is text */
    free_splitter(s);
}

int main(void)
{
    RUN(mark_round_trip);
    RUN(mark_none_is_no_mark);
    RUN(mark_escapes);
    RUN(mark_refused);
    RUN(mark_lone_surrogate);
    RUN(mark_for_other_columns);
    RUN(copy_split);
    RUN(copy_split_counts_fields);
    return unit_failed_tests ? 1 : 0;
}
