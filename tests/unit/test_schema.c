/*
 * test_schema.c -- the schema plugin's descriptor reader and cell parsers
 * (plugins/schema/ts_json.c, ts_schema.c, ts_types.c): JSON errors with
 * their positions, limits, escapes, the JSON writer, canonical forms, and
 * random bytes through every parser (run under ASan by the sanitizer build:
 * no crash, no read past a value).
 */
#include "config.h"

#include <stdlib.h>

#include "ts_json.h"
#include "ts_schema.h"
#include "unit.h"

static cfg_node *parse(const char *s, char *err)
{
    err[0] = '\0';
    return ts_json_parse(s, strlen(s), "t.json", err, 256);
}

TEST(json_errors_have_positions)
{
    char err[256];
    CHECK(!parse("{\"a\": 1,\n \"b\" 2}", err));
    CHECK(strstr(err, "t.json:2:6: expected ':'") != NULL);
    CHECK(!parse("{\"a\": 1, \"a\": 2}", err));
    CHECK(strstr(err, "appears twice") != NULL);
    CHECK(!parse("[1, 2", err));
    CHECK(!parse("\"abc", err));
    CHECK(!parse("{\"a\": tru}", err));
    CHECK(!parse("[01]", err));
    CHECK(!parse("\"\\u0000\"", err));
    CHECK(strstr(err, "NUL") != NULL);
    CHECK(!parse("\"\\ud800\"", err));
    CHECK(!parse("{} x", err));
    CHECK(!parse("", err));
}

TEST(json_depth_limit)
{
    char err[256], deep[400];
    memset(deep, '[', 200);
    memset(deep + 200, ']', 200);
    deep[sizeof deep - 1] = '\0';
    deep[399] = ']';
    char text[401];
    memcpy(text, deep, 400);
    text[400] = '\0';
    CHECK(!parse(text, err));
    CHECK(strstr(err, "nested more than") != NULL);
}

TEST(json_values_and_escapes)
{
    char err[256];
    cfg_node *n = parse("{\"s\": \"Nguy\\u1ec5n \\ud83d\\ude00\\n\", \"n\": -1.5e3, \"t\": true, "
                        "\"z\": null, \"l\": [1, \"2\"]}",
                        err);
    CHECK(n != NULL);
    if (!n)
        return;
    CHECK(strcmp(cfg_get(n, "s")->value, "Nguy\xe1\xbb\x85n \xf0\x9f\x98\x80\n") == 0);
    CHECK(cfg_get(n, "s")->quoted == 1);
    CHECK(strcmp(cfg_get(n, "n")->value, "-1.5e3") == 0 && !cfg_get(n, "n")->quoted);
    CHECK(cfg_is_null(cfg_get(n, "z")));
    CHECK(cfg_get(n, "l")->count == 2 && cfg_get(n, "l")->items[1]->quoted);
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    ts_json_write(fp, n, -1);
    fclose(fp);
    CHECK(strcmp(buf, "{\"s\":\"Nguy\xe1\xbb\x85n \xf0\x9f\x98\x80\\n\",\"n\":-1.5e3,\"t\":true,"
                      "\"z\":null,\"l\":[1,\"2\"]}") == 0);
    free(buf);
    cfg_free(n);
}

static ts_schema *compile(const char *json)
{
    char err[512];
    cfg_node *n = ts_json_parse(json, strlen(json), "s.json", err, sizeof err);
    ts_schema *s = n ? ts_schema_compile(n, "s.json", err, sizeof err) : NULL;
    if (!s)
        printf("# %s\n", err);
    cfg_free(n);
    return s;
}

static const char *canon(const ts_field *f, const char *v, char *scratch)
{
    ts_cell c;
    if (!ts_parse(f, v, strlen(v), scratch, &c))
        return NULL;
    static char out[TS_SCRATCH];
    snprintf(out, sizeof out, "%.*s", (int)c.canon_len, c.canon);
    return out;
}

TEST(canonical_forms)
{
    ts_schema *s = compile(
        "{\"fields\": [{\"name\": \"i\", \"type\": \"integer\", \"groupChar\": \" \"},"
        "{\"name\": \"n\", \"type\": \"number\", \"decimalChar\": \",\", \"groupChar\": \".\"},"
        "{\"name\": \"d\", \"type\": \"date\", \"format\": \"%d/%m/%Y\"},"
        "{\"name\": \"t\", \"type\": \"datetime\"}, {\"name\": \"b\", \"type\": \"boolean\"},"
        "{\"name\": \"g\", \"type\": \"geopoint\"}]}");
    CHECK(s != NULL);
    if (!s)
        return;
    char sc[TS_SCRATCH];
    const char *r;
    CHECK((r = canon(&s->fields[0], "-0 012", sc)) && strcmp(r, "-12") == 0);
    CHECK((r = canon(&s->fields[0], "-0", sc)) && strcmp(r, "0") == 0);
    CHECK((r = canon(&s->fields[1], "1.234.567,50", sc)) && strcmp(r, "1234567.50") == 0);
    CHECK(!canon(&s->fields[1], "1,2,3", sc));
    CHECK((r = canon(&s->fields[2], "5/2/2024", sc)) && strcmp(r, "2024-02-05") == 0);
    CHECK(!canon(&s->fields[2], "29/2/2023", sc));
    CHECK((r = canon(&s->fields[3], "2025-07-01 08:30:00.5+07:00", sc)) &&
          strcmp(r, "2025-07-01T08:30:00.5+07:00") == 0);
    CHECK((r = canon(&s->fields[4], "1", sc)) && strcmp(r, "true") == 0);
    CHECK((r = canon(&s->fields[5], " 105.5 , 21 ", sc)) && strcmp(r, "105.5,21") == 0);
    ts_schema_free(s);
}

TEST(schema_errors)
{
    static const char *const bad[] = {
        "{\"fields\": 1}",
        "{\"fields\": [{\"type\": \"integer\"}]}",
        "{\"fields\": [{\"name\": \"a\", \"type\": \"int\"}]}",
        "{\"fields\": [{\"name\": \"a\", \"type\": \"string\", \"format\": \"%d\"}]}",
        "{\"fields\": [{\"name\": \"a\", \"constraints\": {\"pattern\": \"(\"}}]}",
        "{\"fields\": [{\"name\": \"a\", \"constraints\": {\"pattern\": \"[a-z-[aeiou]]\"}}]}",
        "{\"fields\": [{\"name\": \"a\", \"type\": \"integer\", \"constraints\": {\"minimum\": \"x\"}}]}",
        "{\"fields\": [{\"name\": \"a\"}], \"primaryKey\": \"b\"}",
        "{\"fields\": [{\"name\": \"a\"}, {\"name\": \"a\"}]}",
        "{\"fields\": [{\"name\": \"a\", \"mekong:check\": \"cmnd\"}]}",
        "{\"fields\": [{\"name\": \"a\"}], \"fieldsMatch\": \"some\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char err[512];
        cfg_node *n = ts_json_parse(bad[i], strlen(bad[i]), "s.json", err, sizeof err);
        ts_schema *s = n ? ts_schema_compile(n, "s.json", err, sizeof err) : NULL;
        if (s)
            printf("# accepted: %s\n", bad[i]);
        CHECK(n && !s && strncmp(err, "s.json:", 7) == 0);
        ts_schema_free(s);
        cfg_free(n);
    }
}

/* Random bytes through the JSON reader and every type's parser. */
TEST(random_bytes_never_crash)
{
    ts_schema *s = compile(
        "{\"fields\": [{\"name\": \"a\", \"type\": \"integer\"}, {\"name\": \"b\", \"type\": \"number\"},"
        "{\"name\": \"c\", \"type\": \"date\", \"format\": \"%d/%m/%Y %H:%M:%S.%f %p %z\"},"
        "{\"name\": \"d\", \"type\": \"datetime\"}, {\"name\": \"e\", \"type\": \"time\"},"
        "{\"name\": \"f\", \"type\": \"duration\"}, {\"name\": \"g\", \"type\": \"geopoint\", "
        "\"format\": \"object\"}, {\"name\": \"h\", \"type\": \"object\"},"
        "{\"name\": \"i\", \"type\": \"array\"}, {\"name\": \"j\", \"type\": \"string\", "
        "\"format\": \"email\"}, {\"name\": \"k\", \"type\": \"yearmonth\"},"
        "{\"name\": \"l\", \"type\": \"number\", \"bareNumber\": false},"
        "{\"name\": \"m\", \"constraints\": {\"pattern\": \"(a|b)*c\", \"minLength\": 2}}]}");
    CHECK(s != NULL);
    if (!s)
        return;
    unsigned seed = 12345;
    const char alphabet[] = "0123456789-+.:,/ TZPYMDHSeE{}[]\"\\abcln@%\x80\xc3\xa9";
    char buf[600], sc[TS_SCRATCH];
    for (int round = 0; round < 20000; round++) {
        size_t n = (seed = seed * 1103515245u + 12345u) % 80;
        if (round % 100 == 0)
            n = 520 + seed % 70; /* longer than the scratch buffer */
        for (size_t i = 0; i < n; i++)
            buf[i] = alphabet[(seed = seed * 1103515245u + 12345u) % (sizeof alphabet - 1)];
        char *copy = malloc(n ? n : 1); /* exactly n bytes: ASan sees a read past the value */
        memcpy(copy, buf, n);
        for (size_t f = 0; f < s->nfields; f++) {
            ts_cell c;
            ts_cell_check(&s->fields[f], copy, n, sc, &c);
        }
        char err[256];
        cfg_node *t = ts_json_parse(copy, n, "r", err, sizeof err);
        cfg_free(t);
        free(copy);
    }
    ts_schema_free(s);
}

int main(void)
{
    RUN(json_errors_have_positions);
    RUN(json_depth_limit);
    RUN(json_values_and_escapes);
    RUN(canonical_forms);
    RUN(schema_errors);
    RUN(random_bytes_never_crash);
    return unit_failed_tests ? 1 : 0;
}
