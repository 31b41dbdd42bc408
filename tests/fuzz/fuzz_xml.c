/*
 * fuzz_xml.c -- a libFuzzer target for the xml source: the input is one XML
 * document, read through the real plugin code (plugins/xml/) and the real
 * libxml2, with a small host of its own in this file (the engine's host
 * needs a whole pipeline and writes files: far too slow per input).
 *
 * The first byte picks the options: bit 0 on_malformed (fail/keep), bit 1
 * repeated (reject/first), bits 2-3 the encoding override (none, utf-16,
 * cp1258, tcvn3); the rest is the document.  The fields cover attributes,
 * children, descendants, namespaces and the record's own text.  Every row
 * and reject is checked: cells valid UTF-8, as many as the schema has.
 *
 * Build (from the source tree, after ./configure; the plugin's, kit's,
 * util's and vntext's .c files, but not vntext's bench_vntext.c):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. -Iengine -Iengine/kit
 *     $(pkg-config --cflags libxml-2.0) tests/fuzz/fuzz_xml.c plugins/xml/x*.c
 *     engine/kit/kit_(all).c engine/util/(all).c engine/vntext/vn_(all).c
 *     engine/vntext/vntext.c $(pkg-config --libs libxml-2.0 libutf8proc)
 *     -lpthread -o fuzz_xml
 *   ./fuzz_xml -max_total_time=60 CORPUS_COPY/   (seeds: tests/fuzz/corpus/fuzz_xml/)
 * where (all) is the shell's star.  Without libFuzzer (gcc), add
 * -DFUZZ_XML_MAIN and drop "fuzzer," from -fsanitize: ./fuzz_xml FILE...
 * runs each file once.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mekong.h"
#include "mekong_kit.h"
#include "../../plugins/xml/xml_plugin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- the options of one input ---------------------------------------------- */

static char doc_path[64];
static const char *opt_malformed, *opt_repeated, *opt_encoding;
static const char *const field_keys[] = {"id", "name", "ward", "own", "code", "lang"};
static const char *const field_paths[] = {"@id",        "a:name", "a:addr/a:ward",
                                          ".",          "a:addr/@code", "@xml:lang"};

static const char *fz_opt_string(mk_context *ctx, const char *name)
{
    (void)ctx;
    if (!strcmp(name, "path"))
        return doc_path;
    if (!strcmp(name, "record"))
        return "/a:list/a:item";
    if (!strcmp(name, "on_malformed"))
        return opt_malformed;
    if (!strcmp(name, "repeated"))
        return opt_repeated;
    if (!strcmp(name, "encoding"))
        return opt_encoding;
    return NULL;
}

static long long fz_opt_int(mk_context *ctx, const char *name)
{
    (void)ctx;
    return !strcmp(name, "max_record_bytes") ? 1 << 20 : 0;
}

static int fz_opt_bool(mk_context *ctx, const char *name)
{
    (void)ctx;
    (void)name;
    return 0;
}

static size_t fz_opt_count(mk_context *ctx, const char *name)
{
    (void)ctx;
    if (!strcmp(name, "fields"))
        return sizeof field_keys / sizeof field_keys[0];
    return !strcmp(name, "namespaces") ? 1 : 0;
}

static int fz_opt_entry(mk_context *ctx, const char *name, size_t i, const char **key,
                        const char **value)
{
    (void)ctx;
    if (!strcmp(name, "namespaces")) {
        if (key)
            *key = "a";
        *value = "urn:a";
        return MK_OK;
    }
    if (key)
        *key = field_keys[i];
    *value = field_paths[i];
    return MK_OK;
}

/* ---- a host just big enough ------------------------------------------------ */

static void fz_log(mk_context *ctx, mk_log_level level, const char *fmt, ...)
{
    (void)ctx;
    (void)level;
    (void)fmt;
}

static void fz_error(mk_context *ctx, const char *fmt, ...)
{
    (void)ctx;
    (void)fmt;
}

static const char *fz_step_name(mk_context *ctx)
{
    (void)ctx;
    return "fuzz";
}

static mk_schema schema;
static const mk_schema *fz_schema_intern(mk_context *ctx, const char *const *names, size_t n)
{
    (void)ctx;
    schema.ncols = n;
    schema.names = names;
    return &schema;
}

/* Batch bytes: one block per batch, grown by doubling (kept until reset). */
typedef struct fz_bytes {
    struct fz_bytes *next;
    char data[];
} fz_bytes;
static fz_bytes *bytes;

static char *fz_batch_alloc(mk_batch *b, size_t len)
{
    (void)b;
    fz_bytes *p = malloc(sizeof(*p) + len);
    if (!p)
        return NULL;
    p->next = bytes;
    bytes = p;
    return p->data;
}

static size_t fz_batch_add_row(mk_batch *b)
{
    if (b->nrows == b->cap)
        return (size_t)-1;
    size_t r = b->nrows++;
    for (size_t c = 0; c < b->schema->ncols; c++)
        MK_CELL(b, r, c) = (mk_value){NULL, 0};
    memset(&b->info[r], 0, sizeof b->info[r]);
    return r;
}

static void check_cells(const mk_value *cells, size_t n)
{
    size_t offset;
    if (mkk_utf8_check_cells(cells, n, &offset) >= 0)
        abort(); /* the source promised valid UTF-8 */
}

static int fz_source_reject(mk_context *ctx, const mk_value *fields, size_t n, uint64_t line,
                            const char *rule, const char *reason)
{
    (void)ctx;
    (void)line;
    if (!rule || !reason)
        abort();
    check_cells(fields, n);
    return MK_OK;
}

static int fz_source_reject_record(mk_context *ctx, const mk_value *fields, size_t n,
                                   uint64_t line, uint64_t record, const char *rule,
                                   const char *reason)
{
    (void)record;
    return fz_source_reject(ctx, fields, n, line, rule, reason);
}

static void fz_source_part(mk_context *ctx, uint32_t part, const char *name)
{
    (void)ctx;
    (void)part;
    (void)name;
}

static void fz_report_set(mk_context *ctx, const char *key, const char *value)
{
    (void)ctx;
    (void)key;
    (void)value;
}

static void fz_report_add(mk_context *ctx, const char *key, int64_t delta)
{
    (void)ctx;
    (void)key;
    (void)delta;
}

static int fz_stopping(void)
{
    return 0;
}

static void fz_text_checked(mk_context *ctx)
{
    (void)ctx;
}

static mk_host host = {
    .size = sizeof(mk_host),
    .log = fz_log,
    .error = fz_error,
    .opt_string = fz_opt_string,
    .opt_int = fz_opt_int,
    .opt_bool = fz_opt_bool,
    .opt_count = fz_opt_count,
    .opt_entry = fz_opt_entry,
    .step_name = fz_step_name,
    .schema_intern = fz_schema_intern,
    .batch_add_row = fz_batch_add_row,
    .batch_alloc = fz_batch_alloc,
    .source_reject = fz_source_reject,
    .source_part = fz_source_part,
    .report_set = fz_report_set,
    .report_add = fz_report_add,
    .stopping = fz_stopping,
    .text_checked = fz_text_checked,
    .source_reject_record = fz_source_reject_record,
};

/* ---- one input --------------------------------------------------------------- */

static void free_bytes(void)
{
    while (bytes) {
        fz_bytes *next = bytes->next;
        free(bytes);
        bytes = next;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const encodings[] = {NULL, "utf-16", "cp1258", "tcvn3"};
    if (size < 1)
        return 0;
    opt_malformed = data[0] & 1 ? "keep" : "fail";
    opt_repeated = data[0] & 2 ? "first" : "reject";
    opt_encoding = encodings[(data[0] >> 2) & 3];
    snprintf(doc_path, sizeof doc_path, "/tmp/fuzz_xml.%ld.xml", (long)getpid());
    FILE *f = fopen(doc_path, "wb");
    if (!f || fwrite(data + 1, 1, size - 1, f) != size - 1 || fclose(f) != 0)
        abort();
    void *state = NULL;
    if (xml_source_ops.open(NULL, &host, &state) == MK_OK) {
        enum { CAP = 64 };
        mk_value values[CAP * 8];
        mk_rowinfo info[CAP];
        uint64_t record[CAP];
        mk_batch b = {.schema = xml_source_ops.schema(state), .cap = CAP, .values = values,
                      .info = info, .record = record};
        if (b.schema->ncols > 8)
            abort();
        int rc;
        do {
            b.nrows = 0;
            rc = xml_source_ops.next_batch(state, &b);
            for (size_t r = 0; r < b.nrows; r++)
                check_cells(&MK_CELL(&b, r, 0), b.schema->ncols);
            free_bytes();
        } while (rc == MK_OK);
    }
    xml_source_ops.close(state);
    free_bytes();
    unlink(doc_path);
    return 0;
}

#ifdef FUZZ_XML_MAIN
int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f)
            continue;
        static uint8_t buf[1 << 22];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        LLVMFuzzerTestOneInput(buf, n);
    }
    return 0;
}
#endif
