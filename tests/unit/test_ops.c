/*
 * test_ops.c -- unit tests of nightly operations' own modules: the JSON
 * reader of the history (util/json_read.c), including damaged and hostile
 * texts, and loading a history folder (run/history.c).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "run/ops.h"
#include "unit.h"
#include "util/json_read.h"

static char tmpdir[256];

static mk_jnode *parse(const char *s)
{
    return mk_json_parse(s, strlen(s));
}

TEST(json_reads_a_report)
{
    mk_jnode *n = parse("{\"totals\": {\"read\": 1040, \"balanced\": true},\n"
                        " \"sources\": [{\"name\": \"hà nội\", \"rows_read\": 5e2}],"
                        " \"x\": null, \"s\": \"a\\\"b\\\\c\\n\\u1ea1\\ud83d\\ude00\"}");
    CHECK(n != NULL);
    CHECK_INT_EQ(mk_json_number(mk_json_get(mk_json_get(n, "totals"), "read"), -1), 1040);
    const mk_jnode *b = mk_json_get(mk_json_get(n, "totals"), "balanced");
    CHECK(b && b->kind == MK_J_BOOL && b->number == 1);
    const mk_jnode *s = mk_json_find(mk_json_get(n, "sources"), "name", "hà nội");
    CHECK_INT_EQ(mk_json_number(mk_json_get(s, "rows_read"), -1), 500);
    CHECK(mk_json_get(n, "x") && mk_json_get(n, "x")->kind == MK_J_NULL);
    CHECK_STR_EQ(mk_json_string(mk_json_get(n, "s")), "a\"b\\c\n\xe1\xba\xa1\xf0\x9f\x98\x80");
    CHECK(mk_json_get(n, "missing") == NULL);
    CHECK(mk_json_number(mk_json_get(n, "s"), -7) == -7); /* a string is not a number */
    mk_json_free(n);
}

TEST(json_refuses_what_is_not_json)
{
    static const char *const bad[] = {
        "",      "{",     "{\"a\":}",   "{\"a\" 1}", "[1,]",      "[1 2]",
        "{} {}", "\"abc", "\"a\x01b\"", "\"\\x\"",   "\"\\u12\"", "tru",
        "nul",   "-",     "{\"a\":1,}", "[\"a\"",    "{1:2}",     "01x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mk_jnode *n = parse(bad[i]);
        if (n)
            printf("# accepted: %s\n", bad[i]);
        CHECK(n == NULL);
        mk_json_free(n);
    }
    /* a lone surrogate is U+FFFD, not a crash or a refusal */
    mk_jnode *n = parse("\"\\udc00x\"");
    CHECK_STR_EQ(mk_json_string(n), "\xef\xbf\xbdx");
    mk_json_free(n);
}

TEST(json_nesting_is_limited)
{
    char deep[400];
    memset(deep, '[', 200);
    memset(deep + 200, ']', 200);
    CHECK(mk_json_parse(deep, 400) == NULL);      /* 200 levels: refused, no stack overflow */
    mk_jnode *n = mk_json_parse(deep + 150, 100); /* 50 levels: fine */
    CHECK(n != NULL);
    mk_json_free(n);
}

/* Every prefix and many one-byte changes of a report: a tree or NULL,
 * never a crash (run under ASan by the sanitizer build). */
TEST(json_survives_damaged_reports)
{
    const char *report = "{\"status\": \"ok\", \"totals\": {\"read\": 12, \"written\": 10},"
                         " \"checks\": [{\"check\": \"null_share\", \"subject\": \"t\\u00ean\","
                         " \"value\": 0.25}], \"rules\": []}";
    size_t len = strlen(report);
    char *copy = malloc(len);
    unsigned seed = 12345;
    size_t parsed = 0;
    for (size_t cut = 0; cut <= len; cut++) {
        mk_jnode *n = mk_json_parse(report, cut);
        parsed += n != NULL;
        mk_json_free(n);
    }
    CHECK_INT_EQ(parsed, 1); /* only the whole text */
    static const char bytes[] = "{}[]\":,\\u0 e-.9tfn\x80\xff";
    for (int round = 0; round < 20000; round++) {
        memcpy(copy, report, len);
        for (int k = 0; k < 3; k++) {
            seed = seed * 1103515245u + 12345u;
            copy[(seed >> 8) % len] = bytes[(seed >> 20) % (sizeof bytes - 1)];
        }
        mk_json_free(mk_json_parse(copy, len));
    }
    free(copy);
}

static void put(const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/history/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

TEST(history_loads_in_order_and_skips_damaged_files)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/history", tmpdir);
    mkdir(dir, 0777);
    put("20261203T020000.000000000Z-2.json", "{\"status\": \"drift\"}");
    put("20261201T020000.000000000Z-9.json", "{\"status\": \"ok\"}");
    put("20261202T020000.000000000Z-1.json", "{\"status\": \"fail"); /* cut short */
    put("notes.txt", "not a report");
    put(".20261204T0.json.tmp-x", "{}"); /* a temporary file */
    mk_history h;
    CHECK_INT_EQ(mk_history_load(dir, 0, &h), 0);
    CHECK_INT_EQ(h.n, 2);
    CHECK_INT_EQ(h.unreadable, 1);
    if (h.n == 2) {
        CHECK_STR_EQ(mk_json_string(mk_json_get(h.runs[0].report, "status")), "ok");
        CHECK_STR_EQ(mk_json_string(mk_json_get(h.runs[1].report, "status")), "drift");
    }
    mk_history_free(&h);
    CHECK_INT_EQ(mk_history_load(dir, 1, &h), 0); /* the last one only */
    CHECK_INT_EQ(h.n, 1);
    mk_history_free(&h);
    CHECK_INT_EQ(mk_history_load("/nonexistent/mekong/history", 0, &h), 0);
    CHECK_INT_EQ(h.n, 0);
    mk_history_free(&h);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/mekong-unit-ops-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    mk_log_threshold = -1;
    RUN(json_reads_a_report);
    RUN(json_refuses_what_is_not_json);
    RUN(json_nesting_is_limited);
    RUN(json_survives_damaged_reports);
    RUN(history_loads_in_order_and_skips_damaged_files);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        return 1;
    UNIT_EXIT();
}
