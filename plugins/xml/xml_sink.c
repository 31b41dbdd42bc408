/*
 * xml_sink.c -- the xml sink: one element per row under one document
 * element, UTF-8 with its declaration, written atomically (mkk_file).
 *
 *   <?xml version="1.0" encoding="UTF-8"?>
 *   <root xmlns="namespace">
 *     <record id="attribute column">
 *       <column>text</column>
 *       <empty></empty>                  ("", as the xml source reads it back)
 *       <nulled xsi:nil="true"/>         (null: nil; null: omit leaves it out)
 *     </record>
 *   </root>
 *
 * Escaping: & and < always, > always (so "]]>" cannot appear), " in
 * attributes; CR as &#13; everywhere and tab and LF as &#9; and &#10; in
 * attributes, because a parser would otherwise turn them into LF or spaces:
 * what the xml source reads back is byte for byte what the row held.
 * Characters XML 1.0 cannot carry (C0 controls but tab, LF, CR; U+FFFE,
 * U+FFFF) and text that is not UTF-8 reject the row, naming the column:
 * no escape makes them legal, and a broken document is worse than a
 * rejected row.
 *
 * Rows are written into a buffer of the sink's own, then handed, 64 KiB at
 * a time between rows, to the file and, with `schema`, to a push parser
 * whose SAX events drive libxml2's XSD validator: the bytes validated are
 * the bytes written, as they are written, in bounded memory (no tree).
 * The first violation fails the run with its line and message, and the
 * file is not published.
 */
#include "config.h"

#include <libxml/parser.h>
#include <errno.h>
#include <libxml/xmlschemas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mekong_kit.h"
#include "xml_plugin.h"

#define XSI_URI "http://www.w3.org/2001/XMLSchema-instance"
#define FLUSH_BYTES (64u * 1024)

/* What a column is written as, made once (the names never change). */
typedef struct xml_tags {
    char *open, *close, *nil, *attr; /* "    <c>", "</c>\n", "    <c xsi:nil=...", " c=\"" */
    size_t open_len, close_len, nil_len, attr_len;
} xml_tags;

typedef struct xml_sink {
    mk_context *ctx;
    const mk_host *host;
    mkk_file *out;
    const char *root, *record, *ns;
    int nil;                   /* null: nil */
    const mk_schema *columns;  /* the file's columns (the first batch's) */
    mkk_colmap *map;           /* the file's columns in other schemas */
    unsigned char *is_attr;    /* per file column */
    char *buf;                 /* the batch being written */
    size_t len, cap;
    int failed;                /* out of memory in the buffer */
    unsigned char cls[2][256]; /* byte classes in text and in attributes */
    xml_tags *tags;            /* per file column */
    char *record_close;        /* "  </record>\n" */
    size_t record_close_len;
    /* schema validation */
    xmlSchemaPtr xsd;
    xmlSchemaValidCtxtPtr valid;
    xmlSchemaSAXPlugPtr plug;
    xmlSAXHandler sax;
    xmlParserCtxtPtr push;
    int invalid;
    long invalid_line;
    char invalid_msg[512];
    uint64_t violations;
} xml_sink;

/* ---- the buffer ---------------------------------------------------------- */

static int grow(xml_sink *s, size_t n)
{
    size_t cap = s->cap ? s->cap : 1u << 16;
    while (cap - s->len < n)
        cap *= 2;
    char *grown = realloc(s->buf, cap);
    if (!grown) {
        s->failed = 1;
        return -1;
    }
    s->buf = grown;
    s->cap = cap;
    return 0;
}

static inline void put(xml_sink *s, const char *p, size_t n)
{
    if (s->cap - s->len < n && grow(s, n) != 0)
        return;
    memcpy(s->buf + s->len, p, n);
    s->len += n;
}

static void puts_(xml_sink *s, const char *str)
{
    put(s, str, strlen(str));
}

/* ---- escaping and checking, in one pass -------------------------------------
 *
 * Each byte has a class: plain (copied), escaped, illegal (C0 controls but
 * tab, LF, CR), or 0xEF, which may start U+FFFE or U+FFFF.  The loop skips
 * plain bytes with one table look each; a separate checking pass before
 * writing took a quarter of the sink's time. */
enum { BYTE_PLAIN = 0, BYTE_ESCAPE, BYTE_ILLEGAL, BYTE_EF };

static void init_classes(xml_sink *s)
{
    for (int attr = 0; attr < 2; attr++) {
        unsigned char *cls = s->cls[attr];
        memset(cls, BYTE_PLAIN, 256);
        for (int c = 0; c < 0x20; c++)
            cls[c] = BYTE_ILLEGAL;
        cls['&'] = cls['<'] = cls['>'] = cls['\r'] = BYTE_ESCAPE;
        cls['\t'] = cls['\n'] = attr ? BYTE_ESCAPE : BYTE_PLAIN;
        cls['"'] = attr ? BYTE_ESCAPE : BYTE_PLAIN;
        cls[0xef] = BYTE_EF;
    }
}

static const char *escape_of(unsigned char c)
{
    switch (c) {
    case '&': return "&amp;";
    case '<': return "&lt;";
    case '>': return "&gt;";
    case '\r': return "&#13;";
    case '"': return "&quot;";
    case '\t': return "&#9;";
    default: return "&#10;";
    }
}

/* Write the value escaped (attr: as an attribute value).  -1 when it is
 * all written; else the offset of a character XML 1.0 cannot carry, with
 * the character in *cp (the caller takes the row back). */
static long put_value(xml_sink *s, const char *p, size_t n, int attr, unsigned *cp)
{
    const unsigned char *cls = s->cls[attr];
    const unsigned char *u = (const unsigned char *)p;
    size_t run = 0, i = 0;
    for (;;) {
        while (i < n && cls[u[i]] == BYTE_PLAIN)
            i++;
        if (i == n)
            break;
        switch (cls[u[i]]) {
        case BYTE_ILLEGAL:
            *cp = u[i];
            return (long)i;
        case BYTE_EF:
            if (i + 2 < n && u[i + 1] == 0xbf && (u[i + 2] == 0xbe || u[i + 2] == 0xbf)) {
                *cp = 0xfffe + (u[i + 2] == 0xbf);
                return (long)i;
            }
            i++;
            continue;
        default:
            put(s, p + run, i - run);
            puts_(s, escape_of(u[i]));
            run = ++i;
        }
    }
    put(s, p + run, n - run);
    return -1;
}

/* The row cannot be written: the bytes written of it are taken back and it
 * goes to the rejects file.  1, or -1 when rejecting failed. */
static int reject_cell(xml_sink *s, const mk_batch *b, size_t r, size_t row_start,
                       const char *column, const mk_value *v, long at, unsigned cp, int utf8)
{
    char reason[512];
    s->len = row_start;
    if (utf8)
        snprintf(reason, sizeof reason,
                 "column '%s' is not valid UTF-8 (byte 0x%02x at byte %ld): XML text must be "
                 "characters",
                 column, (unsigned)(unsigned char)v->ptr[at], at + 1);
    else
        snprintf(reason, sizeof reason,
                 "column '%s' holds U+%04X at byte %ld, which XML 1.0 cannot carry (not even as "
                 "a character reference)",
                 column, cp, at + 1);
    return s->host->row_reject(s->ctx, b, r, "xml.illegal_char", reason) == MK_OK ? 1 : -1;
}

/* A name an element or attribute can have (ASCII letters, digits, - . _,
 * any non-ASCII byte; not starting with a digit, - or .; no colon). */
static int xml_name_ok(const char *n)
{
    if (!*n || (*n >= '0' && *n <= '9') || *n == '-' || *n == '.')
        return 0;
    for (const unsigned char *p = (const unsigned char *)n; *p; p++) {
        int ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                 (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p >= 0x80;
        if (!ok)
            return 0;
    }
    return 1;
}

/* ---- schema validation ----------------------------------------------------- */

static void on_invalid(void *data, xmlErrorPtr e)
{
    xml_sink *s = data;
    if (e->level == XML_ERR_WARNING)
        return;
    s->violations++;
    if (s->invalid)
        return;
    s->invalid = 1;
    s->invalid_line = e->line > 0 ? e->line
                                  : (s->push && s->push->input ? s->push->input->line : 0);
    snprintf(s->invalid_msg, sizeof s->invalid_msg, "%s", e->message ? e->message : "invalid");
    size_t n = strlen(s->invalid_msg);
    while (n && (s->invalid_msg[n - 1] == '\n' || s->invalid_msg[n - 1] == '.'))
        s->invalid_msg[--n] = '\0';
}

static void on_schema_error(void *data, xmlErrorPtr e)
{
    on_invalid(data, e);
}

static int start_validation(xml_sink *s, const char *path)
{
    const mk_host *h = s->host;
    if (access(path, R_OK) != 0) {
        h->error(s->ctx, "schema: cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    xml_allow_local_files(1); /* the XSD and what it includes: the pipeline's own files */
    xmlSetStructuredErrorFunc(s, on_schema_error); /* the XML parser's errors in the XSD */
    xmlSchemaParserCtxtPtr pc = xmlSchemaNewParserCtxt(path);
    if (pc) {
        xmlSchemaSetParserStructuredErrors(pc, on_schema_error, s);
        s->xsd = xmlSchemaParse(pc);
        xmlSchemaFreeParserCtxt(pc);
    }
    xmlSetStructuredErrorFunc(NULL, NULL);
    xml_allow_local_files(0);
    if (!s->xsd) {
        h->error(s->ctx, "schema: %s cannot be read as an XSD: line %ld: %s", path,
                 s->invalid_line, s->invalid ? s->invalid_msg : "cannot be read");
        return -1;
    }
    s->invalid = 0;
    s->violations = 0;
    if (!(s->valid = xmlSchemaNewValidCtxt(s->xsd)))
        return -1;
    xmlSchemaSetValidStructuredErrors(s->valid, on_invalid, s);
    memset(&s->sax, 0, sizeof s->sax);
    s->sax.initialized = XML_SAX2_MAGIC; /* no callbacks of our own: nothing is built */
    s->sax.serror = on_invalid;
    xmlSAXHandlerPtr sax = &s->sax;
    void *user = s;
    if (!(s->plug = xmlSchemaSAXPlug(s->valid, &sax, &user)))
        return -1;
    s->push = xmlCreatePushParserCtxt(sax, user, NULL, 0, mkk_file_path(s->out));
    if (!s->push)
        return -1;
    xmlCtxtUseOptions(s->push, xml_parse_options());
    return 0;
}

/* Hand the buffer to the file and the validator; MK_OK or MK_ERROR. */
static int flush_buffer(xml_sink *s, int last)
{
    if (s->failed) {
        s->host->error(s->ctx, "out of memory");
        return MK_ERROR;
    }
    mkk_file_write(s->out, s->buf, s->len);
    if (s->push)
        xmlParseChunk(s->push, s->buf, (int)s->len, last);
    s->len = 0;
    if (s->invalid) {
        s->host->error(s->ctx,
                       "schema: %s does not satisfy %s: line %ld: %s; the file is not "
                       "published",
                       mkk_file_path(s->out), s->host->opt_string(s->ctx, "schema"),
                       s->invalid_line, s->invalid_msg);
        return MK_ERROR;
    }
    return mkk_file_check(s->out);
}

/* ---- the sink ---------------------------------------------------------------- */

static int xml_sink_open(mk_context *ctx, const mk_host *host, void **state)
{
    xml_sink *s = calloc(1, sizeof(*s));
    if (!s)
        return MK_NOMEM;
    *state = s;
    s->ctx = ctx;
    s->host = host;
    xml_init_safety();
    s->root = host->opt_string(ctx, "root");
    s->record = host->opt_string(ctx, "record");
    s->ns = host->opt_string(ctx, "namespace");
    s->nil = mkk_opt_choice(host, ctx, "null", "omit|nil") == 1;
    init_classes(s);
    if (!xml_name_ok(s->root) || !xml_name_ok(s->record)) {
        host->error(ctx, "%s: '%s' is not an XML element name (letters, digits, - . _; no "
                         "colon, not starting with a digit)",
                    xml_name_ok(s->root) ? "record" : "root",
                    xml_name_ok(s->root) ? s->record : s->root);
        return MK_ERROR;
    }
    if (s->ns && (!*s->ns || strpbrk(s->ns, "\"<&"))) {
        host->error(ctx, "namespace: '%s' is not a namespace URI", s->ns);
        return MK_ERROR;
    }
    if (!(s->out = mkk_file_open(host, ctx, host->opt_string(ctx, "path"))))
        return MK_ERROR;
    const char *schema = host->opt_string(ctx, "schema");
    if (schema && start_validation(s, schema) != 0) {
        if (!s->xsd)
            return MK_ERROR;
        host->error(ctx, "schema: cannot start validating against %s (out of memory?)", schema);
        return MK_ERROR;
    }
    return MK_OK;
}

/* s->tags for the file's columns, and the record's end tag. */
static int make_tags(xml_sink *s)
{
    const mk_schema *cols = s->columns;
    if (!(s->tags = calloc(cols->ncols ? cols->ncols : 1, sizeof(xml_tags))))
        return -1;
    for (size_t c = 0; c < cols->ncols; c++) {
        xml_tags *t = &s->tags[c];
        const char *n = cols->names[c];
        if (asprintf(&t->open, "    <%s>", n) < 0 || asprintf(&t->close, "</%s>\n", n) < 0 ||
            asprintf(&t->nil, "    <%s xsi:nil=\"true\"/>\n", n) < 0 ||
            asprintf(&t->attr, " %s=\"", n) < 0)
            return -1;
        t->open_len = strlen(t->open);
        t->close_len = strlen(t->close);
        t->nil_len = strlen(t->nil);
        t->attr_len = strlen(t->attr);
    }
    if (asprintf(&s->record_close, "  </%s>\n", s->record) < 0)
        return -1;
    s->record_close_len = strlen(s->record_close);
    return 0;
}

static void free_tags(xml_sink *s)
{
    for (size_t c = 0; s->tags && c < s->columns->ncols; c++) {
        free(s->tags[c].open);
        free(s->tags[c].close);
        free(s->tags[c].nil);
        free(s->tags[c].attr);
    }
    free(s->tags);
    free(s->record_close);
}

/* The declaration and the document element's start tag (empty: the whole
 * document element, for a file without rows). */
static void write_head(xml_sink *s, int empty)
{
    puts_(s, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<");
    puts_(s, s->root);
    if (s->ns) {
        puts_(s, " xmlns=\"");
        puts_(s, s->ns);
        puts_(s, "\"");
    }
    if (s->nil && !empty)
        puts_(s, " xmlns:xsi=\"" XSI_URI "\"");
    puts_(s, empty ? "/>\n" : ">\n");
}

/* The first batch fixes the file's columns: check them, write the head. */
static int start_file(xml_sink *s, const mk_schema *schema)
{
    const mk_host *h = s->host;
    for (size_t c = 0; c < schema->ncols; c++) {
        if (!xml_name_ok(schema->names[c])) {
            h->error(s->ctx, "column '%s' cannot be an XML element or attribute name (letters, "
                             "digits, - . _; no colon or blank, not starting with a digit): "
                             "rename it with a map transform",
                     schema->names[c]);
            return MK_ERROR;
        }
    }
    s->columns = schema;
    if (!(s->map = mkk_colmap_new(h, schema->names, schema->ncols)) ||
        !(s->is_attr = calloc(schema->ncols ? schema->ncols : 1, 1)) || make_tags(s) != 0)
        return MK_NOMEM;
    size_t n = h->opt_count(s->ctx, "attributes");
    for (size_t i = 0; i < n; i++) {
        const char *name = NULL;
        h->opt_entry(s->ctx, "attributes", i, NULL, &name);
        long c = mkk_column_find(h, schema, name);
        if (c < 0) {
            h->error(s->ctx, "attributes: the rows have no column '%s'", name);
            return MK_ERROR;
        }
        s->is_attr[c] = 1;
    }
    write_head(s, 0);
    return MK_OK;
}

static const mk_value *cell(const mk_batch *b, size_t r, const long *map, size_t c)
{
    static const mk_value null_value = {NULL, 0};
    if (!map)
        return &MK_CELL(b, r, c);
    return map[c] >= 0 ? &MK_CELL(b, r, (size_t)map[c]) : &null_value;
}

/* One value (cell c of the file's columns); 0, or what reject_cell says. */
static int write_value(xml_sink *s, const mk_batch *b, size_t r, size_t row_start, size_t c,
                       const mk_value *v, int attr, int checked)
{
    if (!checked) {
        size_t ok = mkk_utf8_valid_prefix(v->ptr, v->len);
        if (ok < v->len)
            return reject_cell(s, b, r, row_start, s->columns->names[c], v, (long)ok, 0, 1);
    }
    unsigned cp = 0;
    long at = put_value(s, v->ptr, v->len, attr, &cp);
    return at < 0 ? 0 : reject_cell(s, b, r, row_start, s->columns->names[c], v, at, cp, 0);
}

/* Row r: 0 written, 1 rejected (nothing of it stays), -1 error. */
static int write_row(xml_sink *s, const mk_batch *b, size_t r, const long *map, int checked)
{
    const mk_schema *cols = s->columns;
    size_t row_start = s->len, children = 0;
    int rc;
    put(s, "  <", 3);
    puts_(s, s->record);
    for (size_t c = 0; c < cols->ncols; c++) {
        const mk_value *v = cell(b, r, map, c);
        if (!s->is_attr[c]) {
            children += v->ptr || s->nil;
            continue;
        }
        if (!v->ptr)
            continue; /* a NULL attribute is omitted, in both null modes */
        put(s, s->tags[c].attr, s->tags[c].attr_len);
        if ((rc = write_value(s, b, r, row_start, c, v, 1, checked)) != 0)
            return rc;
        put(s, "\"", 1);
    }
    if (!children) {
        put(s, "/>\n", 3);
        return 0;
    }
    put(s, ">\n", 2);
    for (size_t c = 0; c < cols->ncols; c++) {
        const mk_value *v = cell(b, r, map, c);
        const xml_tags *t = &s->tags[c];
        if (s->is_attr[c] || (!v->ptr && !s->nil))
            continue;
        if (!v->ptr) {
            put(s, t->nil, t->nil_len);
            continue;
        }
        put(s, t->open, t->open_len);
        if ((rc = write_value(s, b, r, row_start, c, v, 0, checked)) != 0)
            return rc;
        put(s, t->close, t->close_len);
    }
    put(s, s->record_close, s->record_close_len);
    return 0;
}

static int xml_sink_write(void *state, const mk_batch *b)
{
    xml_sink *s = state;
    int rc;
    if (!s->columns && (rc = start_file(s, b->schema)) != MK_OK)
        return rc;
    const long *map = NULL;
    if (b->schema != s->columns) {
        long extra = mkk_colmap_unwanted(s->map, b->schema);
        if (extra >= 0) {
            s->host->error(s->ctx, "rows with a column '%s' reached this sink, whose file has no "
                                   "such column (it took its columns from the first rows): align "
                                   "the sources with a map transform",
                           b->schema->names[extra]);
            return MK_ERROR;
        }
        if (!(map = mkk_colmap_get(s->map, b->schema)))
            return MK_NOMEM;
    }
    int checked = s->host->batch_text_checked(s->ctx, b);
    for (size_t r = 0; r < b->nrows; r++) {
        if (write_row(s, b, r, map, checked) < 0)
            return MK_ERROR;
        /* between rows (a rejected row is taken back from the buffer), in
         * pieces that stay in the cache */
        if (s->len >= FLUSH_BYTES && flush_buffer(s, 0) != MK_OK)
            return MK_ERROR;
    }
    return flush_buffer(s, 0);
}

static void free_validation(xml_sink *s)
{
    if (s->push) {
        xmlFreeDoc(s->push->myDoc);
        xmlFreeParserCtxt(s->push);
    }
    if (s->plug)
        xmlSchemaSAXUnplug(s->plug);
    if (s->valid)
        xmlSchemaFreeValidCtxt(s->valid);
    if (s->xsd)
        xmlSchemaFree(s->xsd);
}

/* The end of the document, validated before the file is published. */
static int finish_file(xml_sink *s)
{
    if (!s->columns) { /* no rows at all: an empty document element */
        write_head(s, 1);
    } else {
        puts_(s, "</");
        puts_(s, s->root);
        puts_(s, ">\n");
    }
    int rc = flush_buffer(s, 1);
    if (rc == MK_OK && s->push && !s->push->wellFormed) {
        s->host->error(s->ctx, "the written file %s is not well-formed (a bug: please report it)",
                       mkk_file_path(s->out));
        rc = MK_ERROR;
    }
    return rc;
}

static int xml_sink_close(void *state, int commit)
{
    xml_sink *s = state;
    if (!s)
        return MK_OK;
    int rc = MK_OK;
    if (commit && s->out && (rc = finish_file(s)) != MK_OK)
        commit = 0;
    if (s->violations)
        s->host->report_add(s->ctx, "schema_violations", (int64_t)s->violations);
    int closed = mkk_file_close(s->out, commit);
    if (rc == MK_OK)
        rc = closed;
    free_validation(s);
    free_tags(s);
    mkk_colmap_free(s->map);
    free(s->is_attr);
    free(s->buf);
    free(s);
    return rc;
}

const mk_sink_ops xml_sink_ops = {
    xml_sink_open,
    xml_sink_write,
    xml_sink_close,
};
