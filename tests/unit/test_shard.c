/*
 * test_shard.c -- unit tests of the merge's pieces that runs seldom reach:
 * an xml sink's parts joined (shard_xml.c), among them the empty root
 * element a sink writes when it got no batch at all, and the SHA-256 state
 * a shard plan hands to a shard (plugins/csv/csv_state.c).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../plugins/csv/csv_state.h"
#include "run/shard.h"
#include "unit.h"
#include "util/outfile.h"

#define DECL "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
#define HEAD DECL "<r xmlns=\"urn:a>b\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n"
#define EMPTY DECL "<r xmlns=\"urn:a>b\"/>\n"
#define REC(x) "  <row>\n    <a>" x "</a>\n  </row>\n"

static char tmpdir[256];

static const char *put(const char *name, const char *text)
{
    static char path[4][512];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, 512, "%s/%s", tmpdir, name);
    FILE *f = fopen(p, "wb");
    fputs(text, f);
    fclose(f);
    return p;
}

/* The parts joined into out.xml; its text (static), NULL when a part failed. */
static const char *join(const char *const *texts, size_t n, char *err, size_t len)
{
    char out[512];
    snprintf(out, sizeof out, "%s/out.xml", tmpdir);
    mk_outfile *f = mk_outfile_open(out, err, len);
    mk_xml_join j;
    mk_xml_join_init(&j);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "part-%zu.xml", i);
        rc = mk_xml_join_part(&j, f, put(name, texts[i]), err, len);
    }
    rc = rc ? rc : mk_xml_join_end(&j, f, err, len);
    mk_xml_join_free(&j);
    if (rc) {
        mk_outfile_abort(f);
        return NULL;
    }
    mk_outfile_commit(f, err, len);
    static char text[4096];
    FILE *in = fopen(out, "rb");
    size_t got = fread(text, 1, sizeof text - 1, in);
    fclose(in);
    text[got] = '\0';
    return text;
}

TEST(xml_parts_join_as_one_document)
{
    const char *parts[] = {EMPTY, HEAD REC("1") REC("2") "</r>\n", HEAD "</r>\n", HEAD REC("3") "</r>\n"};
    char err[1024];
    const char *got = join(parts, 4, err, sizeof err);
    CHECK(got && strcmp(got, HEAD REC("1") REC("2") REC("3") "</r>\n") == 0);
}

TEST(xml_parts_without_rows_give_the_empty_document)
{
    const char *parts[] = {EMPTY, EMPTY, EMPTY};
    char err[1024];
    const char *got = join(parts, 3, err, sizeof err);
    CHECK(got && strcmp(got, EMPTY) == 0);
}

TEST(xml_part_not_the_sinks_fails)
{
    const char *cut[] = {HEAD REC("1") "</r>\n", HEAD REC("2")}; /* no end tag */
    const char *other[] = {HEAD "</r>\n", DECL "<s>\n</s>\n"};  /* another root */
    char err[1024] = "";
    CHECK(join(cut, 2, err, sizeof err) == NULL);
    CHECK(strstr(err, "part-1.xml") && strstr(err, "run its shard again"));
    CHECK(join(other, 2, err, sizeof err) == NULL);
}

TEST(sha256_state_goes_on_where_it_was_saved)
{
    char text[200], whole[65], resumed[65], saved[CSV_SHA256_TEXT];
    for (int i = 0; i < 200; i++)
        text[i] = (char)('a' + i % 26);
    for (size_t cut = 0; cut <= 200; cut += 37) {
        csv_sha256 a, b;
        csv_sha256_init(&a);
        csv_sha256_update(&a, text, 200);
        csv_sha256_hex(&a, whole);
        csv_sha256_init(&b);
        csv_sha256_update(&b, text, cut);
        csv_sha256_save(&b, saved);
        memset(&b, 0x5a, sizeof b);
        CHECK(csv_sha256_load(&b, cut, saved) == 0);
        csv_sha256_update(&b, text + cut, 200 - cut);
        csv_sha256_hex(&b, resumed);
        CHECK(strcmp(whole, resumed) == 0);
    }
    csv_sha256 c;
    CHECK(csv_sha256_load(&c, 3, "00:") != 0);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/mekong-unit-shard-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(xml_parts_join_as_one_document);
    RUN(xml_parts_without_rows_give_the_empty_document);
    RUN(xml_part_not_the_sinks_fails);
    RUN(sha256_state_goes_on_where_it_was_saved);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        return 1;
    return unit_failed_tests ? 1 : 0;
}
