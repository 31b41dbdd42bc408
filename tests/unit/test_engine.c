/*
 * test_engine.c -- unit tests of the engine's modules: arena, batches and
 * schemas, pipeline-file parsing and its errors, the plugin loader's ABI
 * check, and the output helpers.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arena.h"
#include "batch.h"
#include "log.h"
#include "pipefile.h"
#include "pipeline.h"
#include "plugin.h"
#include "unit.h"
#include "util/outfile.h"
#include "util/json.h"
#include "util/words.h"
#include "util/textout.h"

static char tmpdir[256];

static const char *write_tmp(const char *name, const char *text)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

TEST(arena_reuses_chunks)
{
    mk_arena *a = mk_arena_new();
    for (int round = 0; round < 50; round++) {
        for (int i = 0; i < 10000; i++) {
            char *p = mk_arena_dup(a, "Nguyễn Văn A", 14);
            CHECK(p != NULL);
        }
        mk_arena_reset(a);
    }
    /* 10000 * 14 bytes fit in a bounded number of chunks, reused each round */
    CHECK(mk_arena_footprint(a) <= 2 * 10000 * 14 + MK_ARENA_CHUNK);
    mk_arena_free(a);
}

TEST(arena_big_allocation_is_released_at_reset)
{
    mk_arena *a = mk_arena_new();
    char *small = mk_arena_alloc(a, 10);
    char *big = mk_arena_alloc(a, 10u << 20);
    CHECK(small && big);
    memset(big, 'x', 10u << 20);
    CHECK(mk_arena_footprint(a) >= 10u << 20);
    mk_arena_reset(a);
    CHECK(mk_arena_footprint(a) < (10u << 20));
    mk_arena_free(a);
}

TEST(batch_rows_null_and_empty_differ)
{
    mk_schema_registry *r = mk_schema_registry_new();
    const char *names[] = {"a", "b"};
    const mk_schema *s = mk_schema_intern(r, names, 2);
    CHECK(s == mk_schema_intern(r, names, 2)); /* interned */
    mk_batch *b = mk_batch_new(s);
    for (int i = 0; i < 5000; i++) {
        size_t row = mk_batch_add_row(b);
        CHECK_INT_EQ(row, i);
        CHECK_INT_EQ(mk_batch_set(b, row, 1, "", 0), MK_OK);
    }
    CHECK(MK_IS_NULL(MK_CELL(b, 4999, 0)));
    CHECK(!MK_IS_NULL(MK_CELL(b, 4999, 1)));
    CHECK_INT_EQ(MK_CELL(b, 4999, 1).len, 0);
    CHECK_INT_EQ(mk_schema_find(s, "b"), 1);
    CHECK_INT_EQ(mk_schema_find(s, "c"), -1);
    mk_batch_reset(b, NULL);
    CHECK_INT_EQ(b->nrows, 0);
    mk_batch_free(b);
    mk_schema_registry_free(r);
}

TEST(batch_widening_schema_keeps_room)
{
    mk_schema_registry *r = mk_schema_registry_new();
    const char *one[] = {"a"};
    const char *many[] = {"a", "b", "c", "d", "e", "f", "g", "h"};
    mk_batch *b = mk_batch_new(mk_schema_intern(r, one, 1));
    for (int i = 0; i < 100; i++)
        mk_batch_add_row(b);
    mk_batch_reset(b, mk_schema_intern(r, many, 8));
    for (int i = 0; i < 100; i++) {
        size_t row = mk_batch_add_row(b);
        CHECK_INT_EQ(mk_batch_set(b, row, 7, "x", 1), MK_OK);
    }
    CHECK(b->vcap >= 100 * 8);
    mk_batch_free(b);
    mk_schema_registry_free(r);
}

static char *load_error(const char *yaml, const cfg_vars *vars)
{
    static char err[2048];
    const char *path = write_tmp("p.yaml", yaml);
    cfg_node *n = cfg_load(path, vars, err, sizeof err);
    if (n) {
        cfg_free(n);
        return NULL;
    }
    /* drop the directory so the checks read well */
    char *slash = strstr(err, "p.yaml");
    return slash ? slash : err;
}

TEST(schemas_with_types_are_their_own)
{
    mk_schema_registry *r = mk_schema_registry_new();
    const char *names[] = {"id", "born"};
    mk_type text[] = {MK_TYPE_TEXT, MK_TYPE_TEXT}, typed[] = {MK_TYPE_INTEGER, MK_TYPE_DATE};
    const mk_schema *plain = mk_schema_intern(r, names, 2);
    CHECK(plain->types == NULL);
    CHECK(mk_schema_intern_typed(r, names, text, 2) == plain); /* all text: the same */
    const mk_schema *t = mk_schema_intern_typed(r, names, typed, 2);
    CHECK(t != plain);
    CHECK(t->types && t->types[0] == MK_TYPE_INTEGER && t->types[1] == MK_TYPE_DATE);
    CHECK(mk_schema_intern_typed(r, names, typed, 2) == t);
    mk_schema_registry_free(r);
}

TEST(batch_records_and_truncate)
{
    mk_schema_registry *r = mk_schema_registry_new();
    const char *names[] = {"a"};
    mk_batch *b = mk_batch_new(mk_schema_intern(r, names, 1));
    for (int i = 0; i < 100; i++) { /* past the first growth */
        size_t row = mk_batch_add_row(b);
        CHECK(b->record[row] == 0);
        b->record[row] = (uint64_t)i + 1;
    }
    CHECK(b->record[99] == 100);
    mk_batch_truncate(b, 10);
    CHECK_INT_EQ(b->nrows, 10);
    mk_batch_truncate(b, 20); /* never grows */
    CHECK_INT_EQ(b->nrows, 10);
    CHECK(b->record[mk_batch_add_row(b)] == 0);
    mk_batch_free(b);
    mk_schema_registry_free(r);
}

TEST(host_members_since_first_release)
{
    mk_host h = {0};
    h.size = (uint32_t)MK_HOST_FIRST_SIZE;
    h.row_origin = NULL;
    CHECK(!MK_HOST_HAS(&h, row_origin)); /* an old host: not there */
    h.size = sizeof(mk_host);
    CHECK(!MK_HOST_HAS(&h, row_origin)); /* there, but NULL */
    CHECK(MK_PLUGIN_FIRST_SIZE < sizeof(mk_plugin));
    CHECK(MK_HOST_FIRST_SIZE < sizeof(mk_host));
}

TEST(pipefile_syntax_error_has_position)
{
    const char *e = load_error("name: x\nsources:\n  - plugin: csv\n   path: [oops\n", NULL);
    CHECK(e != NULL);
    CHECK(e && strncmp(e, "p.yaml:4:", 9) == 0);
    CHECK(e && strstr(e, "YAML syntax error"));
}

TEST(pipefile_variables_expand)
{
    setenv("MK_TEST_DIR", "/data/hanoi", 1);
    const char *names[] = {"WHO"};
    const char *values[] = {"so-tu-phap"};
    cfg_vars vars = {names, values, 1};
    char err[1024];
    const char *path = write_tmp("v.yaml", "a: ${MK_TEST_DIR}/x.csv\nb: ${UNSET_MK_VAR:-fallback}\n"
                                           "c: ${WHO}\nd: cost $$5\n");
    cfg_node *n = cfg_load(path, &vars, err, sizeof err);
    CHECK(n != NULL);
    if (!n)
        return;
    CHECK_STR_EQ(cfg_get(n, "a")->value, "/data/hanoi/x.csv");
    CHECK_STR_EQ(cfg_get(n, "b")->value, "fallback");
    CHECK_STR_EQ(cfg_get(n, "c")->value, "so-tu-phap");
    CHECK_STR_EQ(cfg_get(n, "d")->value, "cost $5");
    cfg_free(n);
}

TEST(pipefile_undefined_variable_is_an_error)
{
    unsetenv("MK_SURELY_UNSET");
    const char *e = load_error("name: x\npassword: ${MK_SURELY_UNSET}\n", NULL);
    CHECK(e && strncmp(e, "p.yaml:2:11:", 12) == 0);
    CHECK(e && strstr(e, "${MK_SURELY_UNSET} is not set"));
}

TEST(pipefile_duplicate_key)
{
    const char *e = load_error("name: a\nname: b\n", NULL);
    CHECK(e && strstr(e, "appears twice"));
}

/* The duplicate-key check used to compare every pair: 50,000 keys took
 * seconds.  Not a timed test: the CPU time of 50,000 keys is compared with
 * that of 5,000 (best of three each), which grows about 10x when the check
 * is linear (or n log n) and 100x when it is quadratic, on any machine. */
static char *many_keys_text(int n)
{
    size_t cap = (size_t)(n + 1) * 16, len = 0;
    char *text = malloc(cap);
    if (!text)
        return NULL;
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(text + len, cap - len, "k%d: v\n", i);
    snprintf(text + len, cap - len, "k7: again\n");
    return text;
}

static double best_load_seconds(const char *text)
{
    double best = 1e9;
    for (int i = 0; i < 3; i++) {
        clock_t t0 = clock();
        (void)load_error(text, NULL);
        double s = (double)(clock() - t0) / CLOCKS_PER_SEC;
        best = s < best ? s : best;
    }
    return best;
}

TEST(pipefile_many_keys_are_checked_fast)
{
    char *small = many_keys_text(5000), *big = many_keys_text(50000);
    CHECK(small && big);
    if (small && big) {
        const char *e = load_error(big, NULL);
        CHECK(e && strstr(e, "p.yaml:50001:1: key 'k7' appears twice (first at line 8)"));
        double ts = best_load_seconds(small), tb = best_load_seconds(big);
        if (ts < 1e-4)
            ts = 1e-4; /* below clock()'s resolution */
        CHECK(tb / ts < 40);
    }
    free(small);
    free(big);
}

TEST(suggestions)
{
    const char *keys[] = {"path", "delimiter", "quote", "header", "columns"};
    CHECK_STR_EQ(mk_suggest("pth", keys, 5), "path");
    CHECK_STR_EQ(mk_suggest("delimeter", keys, 5), "delimiter");
    CHECK_STR_EQ(mk_suggest("colums", keys, 5), "columns");
    CHECK(mk_suggest("encoding", keys, 5) == NULL);
    CHECK_INT_EQ(mk_edit_distance("kitten", "sitting"), 3);
}

TEST(plugin_of_another_abi_is_refused)
{
    mk_loaded_plugin lp;
    char err[2048];
    int rc = mk_plugin_load_file(MK_TOP_BUILDDIR "/tests/plugins/.libs/oldabi.so", &lp, err,
                                 sizeof err);
    CHECK_INT_EQ(rc, -1);
    CHECK(strstr(err, "built for plugin ABI 100") != NULL);
    CHECK(strstr(err, "this mekong has ABI 1") != NULL);
}

/* Read before dlopen, so a file that is no shared object is named as such. */
TEST(plugin_not_elf_names_file)
{
    mk_loaded_plugin lp;
    char err[2048];
    const char *path = write_tmp("broken.so", "not an ELF file");
    chmod(path, 0644); /* trusted whatever the umask, to reach the ELF check */
    CHECK_INT_EQ(mk_plugin_load_file(path, &lp, err, sizeof err), -1);
    CHECK(strstr(err, path) != NULL);
    CHECK(strstr(err, "not an ELF shared object") != NULL);
}

/* Both used to crash the host: a variable was called, a bad pointer read. */
TEST(plugin_entry_must_be_code_returning_a_descriptor)
{
    mk_loaded_plugin lp;
    char err[2048];
    CHECK_INT_EQ(mk_plugin_load_file(MK_TOP_BUILDDIR "/tests/plugins/.libs/datasym.so", &lp, err,
                                     sizeof err), -1);
    CHECK(strstr(err, "is not a function in its code") != NULL);
    CHECK_INT_EQ(mk_plugin_load_file(MK_TOP_BUILDDIR "/tests/plugins/.libs/badptr.so", &lp, err,
                                     sizeof err), -1);
    CHECK(strstr(err, "which is not a descriptor in the plugin's memory") != NULL);
}

static const char *read_file(const char *path)
{
    static char buf[4096];
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

TEST(outfile_is_atomic)
{
    char path[512], err[256];
    snprintf(path, sizeof path, "%s/sub/out.csv", tmpdir);
    mk_outfile *f = mk_outfile_open(path, err, sizeof err);
    CHECK(f != NULL);
    mk_outfile_puts(f, "first\n");
    CHECK(access(path, F_OK) != 0); /* nothing under the final name yet */
    CHECK_INT_EQ(mk_outfile_commit(f, err, sizeof err), 0);
    CHECK_STR_EQ(read_file(path), "first\n");
    f = mk_outfile_open(path, err, sizeof err);
    mk_outfile_puts(f, "second\n");
    mk_outfile_abort(f);
    CHECK_STR_EQ(read_file(path), "first\n"); /* an aborted run leaves it alone */
}

TEST(outfile_writes_a_fifo_directly)
{
    char path[512], err[256], got[64];
    snprintf(path, sizeof path, "%s/fifo", tmpdir);
    CHECK_INT_EQ(mkfifo(path, 0600), 0);
    int rd = open(path, O_RDONLY | O_NONBLOCK); /* so opening for writing does not block */
    CHECK(rd >= 0);
    mk_outfile *f = mk_outfile_open(path, err, sizeof err);
    CHECK(f != NULL);
    CHECK_INT_EQ(mk_outfile_write(f, "hello\n", 6), 0);
    CHECK_INT_EQ(mk_outfile_commit(f, err, sizeof err), 0);
    ssize_t n = read(rd, got, sizeof got);
    CHECK_INT_EQ(n, 6);
    CHECK(memcmp(got, "hello\n", 6) == 0);
    close(rd);
    struct stat st;
    CHECK_INT_EQ(stat(path, &st), 0);
    CHECK(S_ISFIFO(st.st_mode)); /* not replaced by a regular file */
}

TEST(csv_quoting_and_formula_guard)
{
    char path[512], err[256];
    snprintf(path, sizeof path, "%s/q.csv", tmpdir);
    mk_outfile *f = mk_outfile_open(path, err, sizeof err);
    mk_csv_style st = {',', '"', 1};
    const char *cells[] = {"plain", "a,b", "say \"hi\"", "", "=SUM(A1)", "-5", "+84912345678",
                           "@cmd", "-x", " lead"};
    for (size_t i = 0; i < sizeof cells / sizeof cells[0]; i++) {
        mk_csv_write_field(f, &st, cells[i], strlen(cells[i]));
        mk_outfile_putc(f, ',');
    }
    mk_csv_write_field(f, &st, NULL, 0);
    mk_outfile_putc(f, '\n');
    mk_outfile_commit(f, err, sizeof err);
    CHECK_STR_EQ(read_file(path), "plain,\"a,b\",\"say \"\"hi\"\"\",\"\",\"'=SUM(A1)\",-5,"
                                  "+84912345678,\"'@cmd\",\"'-x\",\" lead\",\n");
}

/* formula_guard: a cell with a common separator is quoted, and a formula
 * after a separator gets a ' of its own. */
TEST(formula_guard_separators)
{
    char path[512], err[256];
    snprintf(path, sizeof path, "%s/g.csv", tmpdir);
    mk_outfile *f = mk_outfile_open(path, err, sizeof err);
    mk_csv_style st = {'|', '"', 1};
    const char *cells[] = {"x;=cmd|' /C calc'!A0", "a\t@b", "a;b", "1;-5", "r\r\n+x", "p|-q"};
    for (size_t i = 0; i < sizeof cells / sizeof cells[0]; i++) {
        mk_csv_write_field(f, &st, cells[i], strlen(cells[i]));
        mk_outfile_putc(f, '|');
    }
    mk_outfile_commit(f, err, sizeof err);
    CHECK_STR_EQ(read_file(path), "\"x;'=cmd|' /C calc'!A0\"|\"a\t'@b\"|\"a;b\"|\"1;-5\"|"
                                  "\"r\r\n'+x\"|\"p|'-q\"|");
}

TEST(json_escapes_controls_and_handles_invalid_utf8)
{
    char path[512], err[256];
    snprintf(path, sizeof path, "%s/j.json", tmpdir);
    mk_outfile *f = mk_outfile_open(path, err, sizeof err);
    size_t replaced = 0;
    const char *controls = "a\"\\\n\t\x01\x7f" "\xc2\x85" "đ";
    CHECK_INT_EQ(mk_json_write_string(f, controls, strlen(controls), 0, NULL), 0);
    mk_outfile_putc(f, ' ');
    CHECK_INT_EQ(mk_json_write_string(f, "x\xffy", 3, 0, NULL), -2);
    CHECK_INT_EQ(mk_json_write_string(f, "x\xffy\xe1\xba", 5, 1, &replaced), 0);
    mk_outfile_commit(f, err, sizeof err);
    CHECK_INT_EQ(replaced, 2); /* one U+FFFD per maximal invalid subpart: FF, then E1 BA */
    CHECK_STR_EQ(read_file(path), "\"a\\\"\\\\\\n\\t\\u0001\\u007f\\u0085đ\" "
                                  "\"x\xef\xbf\xbdy\xef\xbf\xbd\"");
}

/* The byte-at-a-time escaping that mk_json_write_string's word steps must
 * agree with (input: valid UTF-8). */
static size_t json_reference(const char *in, char *out)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t o = 0;
    out[o++] = '"';
    for (size_t i = 0; s[i];) {
        unsigned c = s[i];
        size_t n = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
        unsigned cp = n == 1 ? c : n == 2 ? ((c & 0x1fu) << 6) | (s[i + 1] & 0x3fu)
                    : n == 3 ? ((c & 0x0fu) << 12) | ((s[i + 1] & 0x3fu) << 6) | (s[i + 2] & 0x3fu)
                             : 0x10000;
        const char *named = cp == '"' ? "\\\"" : cp == '\\' ? "\\\\" : cp == '\n' ? "\\n"
                          : cp == '\r' ? "\\r" : cp == '\t' ? "\\t" : cp == '\b' ? "\\b"
                          : cp == '\f' ? "\\f" : NULL;
        if (named)
            o += (size_t)sprintf(out + o, "%s", named);
        else if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029)
            o += (size_t)sprintf(out + o, "\\u%04x", cp);
        else
            for (size_t k = 0; k < n; k++)
                out[o++] = (char)s[i + k];
        i += n;
    }
    out[o++] = '"';
    out[o] = '\0';
    return o;
}

TEST(json_and_utf8_word_steps_agree_at_every_alignment)
{
    static const char *const pieces[] = {
        "Nguyễn Thị Hương", "\xc2\x85", "\xe2\x80\xa8", "\xe2\x80\xa9", "\xe2\x80\x94",
        "\"", "\\", "\x01", "\x1f", "\x7f", "\n", "ễễễễ", "\xf0\x9f\x98\x80", "\xc2\xa0", "~ ",
    };
    char path[512], err[256], in[128], want[1024];
    snprintf(path, sizeof path, "%s/align.json", tmpdir);
    for (size_t p = 0; p < sizeof pieces / sizeof pieces[0]; p++) {
        for (size_t k = 0; k < 17; k++) {
            size_t n = 0;
            for (size_t i = 0; i < k; i++)
                in[n++] = (char)('a' + i);
            n += (size_t)sprintf(in + n, "%s%s", pieces[p], "xyzxyzxyz" + k % 9);
            mk_outfile *f = mk_outfile_open(path, err, sizeof err);
            CHECK(f != NULL);
            CHECK_INT_EQ(mk_json_write_string(f, in, n, MK_JSON_CHECK, NULL), 0);
            mk_outfile_commit(f, err, sizeof err);
            json_reference(in, want);
            CHECK_STR_EQ(read_file(path), want);
            f = mk_outfile_open(path, err, sizeof err); /* the same, known valid */
            CHECK(f != NULL);
            CHECK_INT_EQ(mk_json_write_string(f, in, n, MK_JSON_VALID, NULL), 0);
            mk_outfile_commit(f, err, sizeof err);
            CHECK_STR_EQ(read_file(path), want);
            /* a bad byte after the same prefix is found exactly where it is */
            CHECK_INT_EQ(mk_utf8_valid_prefix(in, n), n);
            in[n] = '\xff';
            CHECK_INT_EQ(mk_utf8_valid_prefix(in, n + 1), n);
            in[k] = '\x80';
            CHECK_INT_EQ(mk_utf8_valid_prefix(in, n), k);
        }
    }
}

TEST(utf8_validation)
{
    CHECK_INT_EQ(mk_utf8_valid_prefix("Hà Nội", strlen("Hà Nội")), strlen("Hà Nội"));
    CHECK_INT_EQ(mk_utf8_valid_prefix("ab\xc0\xaf", 4), 2);        /* overlong */
    CHECK_INT_EQ(mk_utf8_valid_prefix("ab\xed\xa0\x80", 5), 2);    /* surrogate */
    CHECK_INT_EQ(mk_utf8_valid_prefix("ab\xe1\xba", 4), 2);        /* truncated */
    CHECK_INT_EQ(mk_utf8_valid_prefix("\xf4\x90\x80\x80", 4), 0);  /* > U+10FFFF */
}

TEST(json_values_for_state)
{
    CHECK(mk_json_valid("{\"next\": 3, \"files\": [[\"a\\u00e0\", 1.5e3, true, null]]}"));
    CHECK(mk_json_valid(" \"H\u00e0 N\u1ed9i\" "));
    CHECK(!mk_json_valid("{\"next\": 3"));       /* cut short */
    CHECK(!mk_json_valid("{\"a\": 1} {}"));      /* two values */
    CHECK(!mk_json_valid("{\"a\": 01x}"));
    CHECK(!mk_json_valid("\"tab\there\""));       /* a raw control character */
    char deep[200];
    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    deep[sizeof deep - 1] = '\0';
    CHECK(!mk_json_valid(deep));                   /* nesting over 64 */
    const char *obj = "{\"b\u00e0\": {\"x\": [1]}, \"c\": 2}";
    const char *p = obj, *end = obj + strlen(obj), *k, *v, *ve;
    CHECK_INT_EQ(mk_json_object_next(&p, end, &k, &v, &ve), 1);
    char *key = mk_json_string_decode(k, end);
    CHECK_STR_EQ(key, "b\xc3\xa0");
    free(key);
    CHECK(ve - v == 10 && strncmp(v, "{\"x\": [1]}", 10) == 0);
    CHECK_INT_EQ(mk_json_object_next(&p, end, &k, &v, &ve), 1);
    CHECK_INT_EQ(mk_json_object_next(&p, end, &k, &v, &ve), 0);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/mekong-unit-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    mk_log_threshold = -1; /* the tests read messages from err buffers */
    RUN(arena_reuses_chunks);
    RUN(arena_big_allocation_is_released_at_reset);
    RUN(batch_rows_null_and_empty_differ);
    RUN(batch_widening_schema_keeps_room);
    RUN(schemas_with_types_are_their_own);
    RUN(batch_records_and_truncate);
    RUN(host_members_since_first_release);
    RUN(pipefile_syntax_error_has_position);
    RUN(pipefile_variables_expand);
    RUN(pipefile_undefined_variable_is_an_error);
    RUN(pipefile_duplicate_key);
    RUN(pipefile_many_keys_are_checked_fast);
    RUN(suggestions);
    RUN(plugin_of_another_abi_is_refused);
    RUN(plugin_not_elf_names_file);
    RUN(plugin_entry_must_be_code_returning_a_descriptor);
    RUN(outfile_is_atomic);
    RUN(outfile_writes_a_fifo_directly);
    RUN(csv_quoting_and_formula_guard);
    RUN(formula_guard_separators);
    RUN(json_escapes_controls_and_handles_invalid_utf8);
    RUN(utf8_validation);
    RUN(json_values_for_state);
    RUN(json_and_utf8_word_steps_agree_at_every_alignment);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        return 1;
    UNIT_EXIT();
}
