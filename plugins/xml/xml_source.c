/*
 * xml_source.c -- the xml source: one row per record element, read with
 * libxml2's streaming reader (xmlTextReader), never a tree of the document.
 *
 * The reader hands over one node at a time and frees what is behind it, so
 * memory is bounded by the largest record, not by the document.  Outside a
 * record, an element that is not the next step of the record path is
 * skipped whole (xmlTextReaderNext), so a record element met at another
 * depth is never a record.  Inside a record, each element is looked up
 * among the children of its parent's node in the field tree (xml_path.c);
 * an element no field names is skipped whole too.
 *
 * A field's value is its element's own character data: text and CDATA
 * children and the entities in them, not the text of child elements.
 * Whitespace is kept as it is, except that an element with element
 * children whose own text is only whitespace (indentation) has the value
 * "".  An absent element or attribute is NULL, a present empty one "", an
 * element with xsi:nil="true" NULL (as the xml sink writes a NULL).
 * Values are UTF-8 in NFC.
 *
 * Entities: libxml2 never substitutes them (see xml.c); an internal entity
 * whose replacement text is plain text is expanded here, bounded against
 * expansion bombs; any other entity (external, or holding markup or other
 * entities) rejects its record, naming the entity.  Anything libxml2
 * reports as an error ends the document: the run fails with
 * file:line:column, or with on_malformed: keep the rows before it are kept
 * and the rest of the file is one rejected record.
 */
#include "config.h"

#include <glob.h>
#include <libxml/encoding.h>
#include <libxml/xmlreader.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mekong_kit.h"
#include "xml_plugin.h"

/* Entity expansion allowed over a document: this much, plus ten times the
 * bytes of the document read so far (libxml2's own ratio). */
#define EXPANSION_BASE (1u << 20)
#define EXPANSION_RATIO 10

#define XSI_URI "http://www.w3.org/2001/XMLSchema-instance"

/* present[] of a field in the record being read: 0 absent (NULL) */
enum { PRESENT_FIELD = 1, NIL_FIELD = 2 };

typedef struct xml_frame {
    size_t node;    /* field tree node of this open element */
    long capture;   /* the field taking this element's text, or -1 */
    int has_child;  /* an element child was seen */
} xml_frame;

typedef struct xml_source {
    mk_context *ctx;
    const mk_host *host;
    xml_paths paths;
    const mk_schema *schema;
    glob_t files;
    size_t *pick, npick;  /* the files read: indexes into files (shard_files: some of them) */
    size_t file_index;    /* into pick */
    const char *encoding; /* the encoding option, or NULL */
    int repeated_first;   /* repeated: first */
    int keep_malformed;   /* on_malformed: keep */
    long long max_record;
    int has_records;

    /* the document being read */
    xml_input in;
    int in_open;
    xmlTextReaderPtr reader;
    int skip;             /* skip the current element's subtree */
    int interned;         /* element names compare by pointer (intern_names) */
    int names_checked;    /* the first element's name was found in the dictionary */
    size_t matched;       /* record path steps matched by the open ancestors */
    uint64_t records;     /* record elements of this file so far */
    uint64_t expanded;    /* entity bytes expanded in this file */
    int fault;            /* libxml2 reported an error */
    int fault_in_file;    /* ... at a place in the document (not an entity's text) */
    long fault_line, fault_col;
    char fault_msg[512];

    /* the record being read */
    int in_record;
    int record_depth;
    uint64_t record_line;
    xml_frame *frames;
    size_t nframes, frames_cap;
    vn_buf *text;         /* per field */
    unsigned char *present;
    mk_value *cells;
    size_t record_bytes;
    char bad[512];        /* why the record is rejected, "" if it is not */
    const char *bad_rule;
    vn_buf nfc;
    mk_batch *batch;
} xml_source;

static const char *uri_of(xmlNodePtr n)
{
    return n->ns ? (const char *)n->ns->href : NULL;
}

/* Element el is name.  The reader keeps element names in its dictionary,
 * so when our names are interned there too a pointer says whether the
 * local names are equal (a third of the source's own time went to strcmp
 * before). */
static int element_is(const xml_source *src, const xml_name *name, xmlNodePtr el)
{
    if (src->interned ? (const void *)el->name != name->interned
                      : strcmp(name->local, (const char *)el->name) != 0)
        return 0;
    const char *uri = uri_of(el);
    if (!name->uri || !uri)
        return !name->uri && (!uri || !*uri);
    return strcmp(name->uri, uri) == 0;
}

/* Put our element names in the reader's dictionary (once per document). */
static void intern_names(xml_source *src)
{
    xml_paths *p = &src->paths;
    for (size_t i = 0; i < p->record_steps; i++)
        p->record[i].interned = xmlTextReaderConstString(src->reader, BAD_CAST p->record[i].local);
    for (size_t i = 1; i < p->nnodes; i++)
        p->nodes[i].name.interned =
            xmlTextReaderConstString(src->reader, BAD_CAST p->nodes[i].name.local);
    src->interned = 1;
    for (size_t i = 0; i < p->record_steps; i++)
        src->interned &= p->record[i].interned != NULL;
    for (size_t i = 1; i < p->nnodes; i++)
        src->interned &= p->nodes[i].name.interned != NULL;
}

/* ---- errors ------------------------------------------------------------- */

static void on_libxml_error(void *data, xmlErrorPtr e)
{
    xml_source *src = data;
    if (e->level == XML_ERR_WARNING) {
        src->host->log(src->ctx, MK_LOG_WARN, "%s:%d: %s", src->in.path, e->line,
                       e->message ? e->message : "warning");
        return;
    }
    /* an error inside an entity's text has no file: a later one that names
     * the document gives the place to look */
    if (src->fault && (src->fault_in_file || !e->file))
        return;
    src->fault = 1;
    src->fault_in_file = e->file != NULL;
    src->fault_line = e->line;
    src->fault_col = e->int2;
    if (e->line <= 0 && src->reader) { /* an encoding error: where the parser is */
        src->fault_line = xmlTextReaderGetParserLineNumber(src->reader);
        src->fault_col = xmlTextReaderGetParserColumnNumber(src->reader);
    }
    /* one line: "Input is not proper UTF-8, indicate encoding !\nBytes: ..." */
    const char *m = e->message ? e->message : "error";
    size_t n = 0;
    for (; *m && n + 3 < sizeof src->fault_msg; m++) {
        if (*m != '\n') {
            src->fault_msg[n++] = *m;
        } else if (m[1]) {
            src->fault_msg[n++] = ';';
            src->fault_msg[n++] = ' ';
        }
    }
    while (n && src->fault_msg[n - 1] == ' ')
        n--;
    src->fault_msg[n] = '\0';
}

/* The record being read is rejected (the first reason counts). */
static void set_bad(xml_source *src, const char *rule, const char *fmt, const char *a,
                    const char *b)
{
    if (src->bad[0])
        return;
    snprintf(src->bad, sizeof src->bad, fmt, a, b);
    src->bad_rule = rule;
}

/* ---- files ------------------------------------------------------------------ */

static void close_document(xml_source *src)
{
    xmlSetStructuredErrorFunc(NULL, NULL);
    if (src->reader)
        xmlFreeTextReader(src->reader);
    src->reader = NULL;
    if (src->in_open)
        xml_input_close(&src->in);
    src->in_open = 0;
}

static int open_document(xml_source *src)
{
    const mk_host *h = src->host;
    const char *path = src->files.gl_pathv[src->pick[src->file_index]];
    src->in_open = 1;
    if (xml_input_open(&src->in, path, src->encoding) != 0) {
        h->error(src->ctx, "%s", src->in.error);
        return -1;
    }
    int options = xml_parse_options();
    if (src->in.decoder || (src->encoding && *src->encoding))
        options |= XML_PARSE_IGNORE_ENC; /* decoded already, or the declaration is wrong */
    src->reader = xmlReaderForIO(xml_input_read, NULL, &src->in, path, src->in.libxml_encoding,
                                 options);
    if (!src->reader) {
        h->error(src->ctx, "%s: libxml2 cannot start reading it (out of memory?)", path);
        return -1;
    }
    xmlTextReaderSetStructuredErrorHandler(src->reader, on_libxml_error, src);
    xmlSetStructuredErrorFunc(src, on_libxml_error);
    intern_names(src);
    src->names_checked = 0;
    src->skip = 0;
    src->matched = 0;
    src->records = 0;
    src->expanded = 0;
    src->fault = 0;
    src->in_record = 0;
    h->source_part(src->ctx, (uint32_t)src->pick[src->file_index], path);
    h->report_set(src->ctx, "encoding", src->in.name);
    return 0;
}

/* ---- values ------------------------------------------------------------------ */

static int append_text(xml_source *src, long field, const char *s, size_t len)
{
    if (field < 0)
        return 0;
    src->record_bytes += len;
    if ((long long)src->record_bytes > src->max_record) {
        src->host->error(src->ctx,
                         "%s:%llu: record %llu holds more than max_record_bytes (%lld) of "
                         "text; if the data is right, raise max_record_bytes",
                         src->in.path, (unsigned long long)src->record_line,
                         (unsigned long long)src->records, src->max_record);
        return -1;
    }
    if (vn_buf_append(&src->text[field], s, len) != VN_OK) {
        src->host->error(src->ctx, "out of memory");
        return -1;
    }
    return 0;
}

/* Mark field present; 1 when its text is to be taken, 0 when it repeats. */
static int start_field(xml_source *src, size_t field)
{
    if (src->present[field]) {
        if (!src->repeated_first)
            set_bad(src, "xml.repeated",
                    "field '%s' (%s) appears more than once in the record (repeated: first "
                    "would keep the first)",
                    src->paths.columns[field], src->paths.exprs[field]);
        return 0;
    }
    src->present[field] = PRESENT_FIELD;
    src->text[field].len = 0;
    return 1;
}

/* An entity reference inside a captured value. */
static int expand_entity(xml_source *src, xmlNodePtr ref, long field)
{
    if (field < 0)
        return 0;
    xmlEntityPtr ent = ref->children && ref->children->type == XML_ENTITY_DECL
                           ? (xmlEntityPtr)ref->children
                           : NULL;
    const char *name = (const char *)ref->name;
    if (!ent || ent->etype != XML_INTERNAL_GENERAL_ENTITY || !ent->content) {
        set_bad(src, "xml.entity",
                "entity &%s; is external or undeclared: mekong never reads external entities "
                "(field '%s')",
                name, src->paths.columns[field]);
        return 0;
    }
    const char *text = (const char *)ent->content;
    if (strpbrk(text, "<&")) {
        set_bad(src, "xml.entity",
                "entity &%s; holds markup or other entities, which mekong does not expand "
                "(field '%s')",
                name, src->paths.columns[field]);
        return 0;
    }
    size_t len = strlen(text);
    src->expanded += len;
    if (src->expanded > EXPANSION_BASE + EXPANSION_RATIO * src->in.bytes_read) {
        src->host->error(src->ctx,
                         "%s:%ld: entities expand to more than %u bytes plus %d times the "
                         "document's size: an entity-expansion attack? The document is refused",
                         src->in.path, xmlGetLineNo(ref), EXPANSION_BASE, EXPANSION_RATIO);
        return -1;
    }
    return append_text(src, field, text, len);
}

/* The attribute fields of node on element el. */
static int take_attributes(xml_source *src, xmlNodePtr el, size_t node)
{
    const xml_field_node *fn = &src->paths.nodes[node];
    if (!fn->nattrs)
        return 0;
    for (xmlAttrPtr a = el->properties; a; a = a->next) {
        const char *uri = a->ns ? (const char *)a->ns->href : NULL;
        for (size_t i = 0; i < fn->nattrs; i++) {
            size_t f = fn->attrs[i].field;
            if (!xml_name_is(&fn->attrs[i].name, uri, (const char *)a->name) ||
                !start_field(src, f))
                continue;
            for (xmlNodePtr c = a->children; c; c = c->next) {
                int rc = 0;
                if (c->type == XML_TEXT_NODE && c->content)
                    rc = append_text(src, (long)f, (const char *)c->content,
                                     strlen((const char *)c->content));
                else if (c->type == XML_ENTITY_REF_NODE)
                    rc = expand_entity(src, c, (long)f);
                if (rc != 0)
                    return -1;
            }
        }
    }
    return 0;
}

/* Only blanks in [s, s + n). */
static int all_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
            return 0;
    return 1;
}

/* An element's frame closes: indentation alone is no text. */
static void close_frame(xml_source *src, const xml_frame *fr)
{
    if (fr->capture >= 0 && fr->has_child) {
        vn_buf *t = &src->text[fr->capture];
        if (all_blank(t->data, t->len))
            t->len = 0;
    }
}

/* ---- records ------------------------------------------------------------------ */

static int push_frame(xml_source *src, size_t node, long capture)
{
    if (src->nframes == src->frames_cap) {
        size_t cap = src->frames_cap ? src->frames_cap * 2 : 16;
        xml_frame *f = realloc(src->frames, cap * sizeof(*f));
        if (!f) {
            src->host->error(src->ctx, "out of memory");
            return -1;
        }
        src->frames = f;
        src->frames_cap = cap;
    }
    src->frames[src->nframes++] = (xml_frame){node, capture, 0};
    return 0;
}

/* xsi:nil="true" on el: its value is NULL (as the xml sink writes NULL). */
static int is_nil(xmlNodePtr el)
{
    for (xmlAttrPtr a = el->properties; a; a = a->next) {
        if (a->ns && strcmp((const char *)a->name, "nil") == 0 &&
            strcmp((const char *)a->ns->href, XSI_URI) == 0 && a->children &&
            a->children->type == XML_TEXT_NODE && a->children->content)
            return strcmp((const char *)a->children->content, "true") == 0 ||
                   strcmp((const char *)a->children->content, "1") == 0;
    }
    return 0;
}

/* Element el opens a field tree node: its frame, attributes, text. */
static int open_node(xml_source *src, xmlNodePtr el, size_t node)
{
    long text_field = src->paths.nodes[node].text_field;
    long capture = text_field >= 0 && start_field(src, (size_t)text_field) ? text_field : -1;
    if (capture >= 0 && el->properties && is_nil(el)) {
        src->present[capture] = NIL_FIELD;
        capture = -1;
    }
    if (push_frame(src, node, capture) != 0 || take_attributes(src, el, node) != 0)
        return -1;
    return 0;
}

static int start_record(xml_source *src, xmlNodePtr el)
{
    src->in_record = 1;
    src->record_depth = xmlTextReaderDepth(src->reader);
    src->record_line = (uint64_t)xmlGetLineNo(el);
    src->records++;
    src->nframes = 0;
    src->record_bytes = 0;
    src->bad[0] = '\0';
    memset(src->present, 0, src->paths.nfields);
    return open_node(src, el, 0);
}

/* The fields of the record just read as cells (NFC, in the batch arena). */
static int make_cells(xml_source *src)
{
    for (size_t f = 0; f < src->paths.nfields; f++) {
        mk_value *v = &src->cells[f];
        v->ptr = NULL;
        v->len = 0;
        if (src->present[f] != PRESENT_FIELD)
            continue; /* absent, or xsi:nil */
        const char *out;
        size_t len;
        if (vn_nfc(src->text[f].data ? src->text[f].data : "", src->text[f].len, &out, &len,
                   &src->nfc) != VN_OK) {
            src->host->error(src->ctx, "%s:%llu: field '%s' is not valid UTF-8 after decoding",
                             src->in.path, (unsigned long long)src->record_line,
                             src->paths.columns[f]);
            return -1;
        }
        char *p = src->host->batch_alloc(src->batch, len ? len : 1);
        if (!p) {
            src->host->error(src->ctx, "out of memory");
            return -1;
        }
        memcpy(p, out, len);
        v->ptr = p;
        v->len = len;
    }
    return 0;
}

static int end_record(xml_source *src)
{
    const mk_host *h = src->host;
    close_frame(src, &src->frames[0]);
    src->in_record = 0;
    src->nframes = 0;
    if (make_cells(src) != 0)
        return -1;
    if (src->bad[0]) {
        int rc = MK_HOST_HAS(h, source_reject_record)
                     ? h->source_reject_record(src->ctx, src->cells, src->paths.nfields,
                                               src->record_line, src->records, src->bad_rule,
                                               src->bad)
                     : h->source_reject(src->ctx, src->cells, src->paths.nfields,
                                        src->record_line, src->bad_rule, src->bad);
        return rc == MK_OK ? 0 : -1;
    }
    size_t r = h->batch_add_row(src->batch);
    if (r == (size_t)-1) {
        h->error(src->ctx, "out of memory");
        return -1;
    }
    memcpy(&MK_CELL(src->batch, r, 0), src->cells, src->paths.nfields * sizeof(mk_value));
    src->batch->info[r].position = src->record_line;
    src->batch->info[r].part = (uint32_t)src->pick[src->file_index];
    if (src->has_records)
        src->batch->record[r] = src->records;
    return 0;
}

/* ---- the walk ------------------------------------------------------------------ */


/* An element start outside any record: one more step of the record path,
 * the record itself, or a subtree to skip. */
static int element_outside(xml_source *src, xmlNodePtr el)
{
    const xml_paths *p = &src->paths;
    if (!src->names_checked) {
        /* names outside the dictionary (a libxml2 built otherwise): strcmp */
        src->names_checked = 1;
        if (xmlTextReaderConstString(src->reader, el->name) != el->name)
            src->interned = 0;
    }
    if ((size_t)xmlTextReaderDepth(src->reader) != src->matched ||
        !element_is(src, &p->record[src->matched], el)) {
        src->skip = 1;
        return 0;
    }
    int empty = xmlTextReaderIsEmptyElement(src->reader);
    if (src->matched + 1 < p->record_steps) {
        src->matched += !empty;
        return 0;
    }
    if (start_record(src, el) != 0)
        return -1;
    return empty ? end_record(src) : 0;
}

/* An element start inside a record: a node of the field tree, or skipped. */
static int element_inside(xml_source *src, xmlNodePtr el)
{
    size_t level = (size_t)(xmlTextReaderDepth(src->reader) - src->record_depth);
    xml_frame *parent = &src->frames[level - 1];
    parent->has_child = 1;
    size_t c = src->paths.nodes[parent->node].first_child;
    while (c && !element_is(src, &src->paths.nodes[c].name, el))
        c = src->paths.nodes[c].next_sibling;
    if (!c) {
        src->skip = 1;
        return 0;
    }
    if (open_node(src, el, c) != 0)
        return -1;
    if (xmlTextReaderIsEmptyElement(src->reader))
        src->nframes--; /* no end tag comes: its value is "" */
    return 0;
}

static int end_element(xml_source *src)
{
    int depth = xmlTextReaderDepth(src->reader);
    if (!src->in_record) {
        if ((size_t)depth < src->matched)
            src->matched = (size_t)depth;
        return 0;
    }
    if (depth == src->record_depth)
        return end_record(src);
    close_frame(src, &src->frames[--src->nframes]);
    return 0;
}

/* Character data inside a record: to the field of its element, if any. */
static int text_inside(xml_source *src, int entity, xmlNodePtr n)
{
    size_t level = (size_t)(xmlTextReaderDepth(src->reader) - src->record_depth);
    long field = src->frames[level - 1].capture;
    if (field < 0)
        return 0;
    if (entity)
        return expand_entity(src, n, field);
    const char *s = (const char *)n->content;
    return s ? append_text(src, field, s, strlen(s)) : 0;
}

/* The node's type is read from the node: xmlTextReaderNodeType would scan
 * every text node to tell whitespace from text, which this source does
 * not need. */
static int on_node(xml_source *src)
{
    xmlNodePtr n = xmlTextReaderCurrentNode(src->reader);
    switch (n->type) {
    case XML_ELEMENT_NODE:
        if (xmlTextReaderNodeType(src->reader) == XML_READER_TYPE_END_ELEMENT)
            return end_element(src);
        return src->in_record ? element_inside(src, n) : element_outside(src, n);
    case XML_TEXT_NODE:
    case XML_CDATA_SECTION_NODE:
        return src->in_record ? text_inside(src, 0, n) : 0;
    case XML_ENTITY_REF_NODE:
        return src->in_record ? text_inside(src, 1, n) : 0;
    default: /* comments, processing instructions, the DOCTYPE */
        return 0;
    }
}

/* The fault is the end of the file inside the document element.  (In
 * push mode libxml2 says "Extra content at the end of the document".) */
static int truncated(const xml_source *src)
{
    return src->fault && src->in.eof && src->in.raw_pos == src->in.raw_len &&
           (src->in_record || src->matched) &&
           (strstr(src->fault_msg, "Extra content at the end") ||
            strstr(src->fault_msg, "Premature end"));
}

/* The document broke: fail the run, or (on_malformed: keep) reject the
 * rest of the file as one record and go on.  1 (next file) or -1. */
static int malformed(xml_source *src)
{
    const mk_host *h = src->host;
    char where[1200];
    if (src->in.error[0])
        snprintf(where, sizeof where, "%s", src->in.error);
    else if (src->in.bytes_read == 0)
        snprintf(where, sizeof where, "%s is empty: an XML document needs a document element",
                 src->in.path);
    else
        snprintf(where, sizeof where, "%s:%ld:%ld: %s%s", src->in.path, src->fault_line,
                 src->fault_col, src->fault ? src->fault_msg : "the document cannot be read",
                 truncated(src) ? " (the file ends before its elements are closed: truncated?)"
                                : "");
    if (!src->keep_malformed) {
        h->error(src->ctx, "%s (the document is not well-formed or cannot be read; %llu records "
                           "were read from it before)",
                 where, (unsigned long long)src->records - (src->in_record ? 1 : 0));
        return -1;
    }
    char reason[1400];
    snprintf(reason, sizeof reason, "%s: the rest of the file is not read%s", where,
             src->in_record ? " (the record open there is lost with it)" : "");
    uint64_t line = src->fault_line > 0 ? (uint64_t)src->fault_line : src->record_line;
    int rc = MK_HOST_HAS(h, source_reject_record)
                 ? h->source_reject_record(src->ctx, NULL, 0, line, src->records + 1,
                                           "xml.malformed", reason)
                 : h->source_reject(src->ctx, NULL, 0, line, "xml.malformed", reason);
    h->log(src->ctx, MK_LOG_WARN, "%s", reason);
    h->report_add(src->ctx, "malformed_files", 1);
    close_document(src);
    return rc == MK_OK ? 1 : -1;
}

/* Read nodes until the batch is full (0), the document ends (1) or the
 * run must stop (-1). */
static int walk(xml_source *src)
{
    while (src->batch->nrows < src->batch->cap) {
        int rc = src->skip ? xmlTextReaderNext(src->reader) : xmlTextReaderRead(src->reader);
        src->skip = 0;
        if (rc < 0 || src->fault || src->in.error[0])
            return malformed(src);
        if (rc == 0) {
            if (src->records == 0)
                src->host->log(src->ctx, MK_LOG_WARN,
                               "%s has no element at %s: no rows (check record and namespaces)",
                               src->in.path, src->host->opt_string(src->ctx, "record"));
            close_document(src);
            return 1;
        }
        if (on_node(src) != 0)
            return -1;
    }
    return 0;
}

/* ---- the source ------------------------------------------------------------------ */

static int check_encoding_option(xml_source *src)
{
    const char *e = src->encoding;
    if (!e || !*e || vn_encoding_canonical(e))
        return 0;
    xmlCharEncodingHandlerPtr handler = xmlFindCharEncodingHandler(e);
    if (!handler) {
        src->host->error(src->ctx, "encoding: '%s' is not known (vntext knows %s; iconv knows "
                                   "others: iconv -l)",
                         e, vn_encoding_names());
        return -1;
    }
    xmlCharEncCloseFunc(handler);
    return 0;
}

/* The files to read: the glob's, or with shard_files (a shard of a plan)
 * those it names, each keeping its place in the glob as its part number so
 * that rows are numbered as one run numbers them. */
static int choose_files(xml_source *src)
{
    const mk_host *h = src->host;
    size_t n = h->opt_count(src->ctx, "shard_files"), g = src->files.gl_pathc;
    if (!(src->pick = calloc(g + 1, sizeof(size_t))))
        return -1;
    const char *first = NULL;
    if (n)
        h->opt_entry(src->ctx, "shard_files", 0, NULL, &first);
    int none = n == 1 && strcmp(first, "-") == 0;
    for (size_t i = 0; i < g; i++) {
        int wanted = !n;
        for (size_t k = 0; !wanted && !none && k < n; k++) {
            const char *file;
            h->opt_entry(src->ctx, "shard_files", k, NULL, &file);
            wanted = strcmp(file, src->files.gl_pathv[i]) == 0;
        }
        if (wanted)
            src->pick[src->npick++] = i;
    }
    if (n && !none && src->npick != n) {
        h->error(src->ctx, "shard_files names %zu file(s), %zu of them match %s: the files "
                 "changed since the shard plan was made; make the plan again (mekong plan)",
                 n, src->npick, h->opt_string(src->ctx, "path"));
        return -1;
    }
    return 0;
}

static int xml_source_open(mk_context *ctx, const mk_host *host, void **state)
{
    xml_source *src = calloc(1, sizeof(*src));
    if (!src)
        return MK_NOMEM;
    *state = src;
    src->ctx = ctx;
    src->host = host;
    src->in.fd = -1;
    xml_init_safety();
    src->has_records = MK_HOST_HAS(host, row_origin);
    src->encoding = host->opt_string(ctx, "encoding");
    src->repeated_first = mkk_opt_choice(host, ctx, "repeated", "reject|first") == 1;
    src->keep_malformed = mkk_opt_choice(host, ctx, "on_malformed", "fail|keep") == 1;
    src->max_record = host->opt_int(ctx, "max_record_bytes");
    if (src->max_record < 1) {
        host->error(ctx, "max_record_bytes must be at least 1, not %lld", src->max_record);
        return MK_ERROR;
    }
    if (xml_paths_load(&src->paths, ctx, host) != MK_OK || check_encoding_option(src) != 0)
        return MK_ERROR;
    size_t n = src->paths.nfields;
    src->text = calloc(n, sizeof(vn_buf));
    src->present = calloc(n, 1);
    src->cells = calloc(n, sizeof(mk_value));
    if (!src->text || !src->present || !src->cells)
        return MK_NOMEM;
    vn_buf_init(&src->nfc);
    src->schema = host->schema_intern(ctx, (const char *const *)src->paths.columns, n);
    if (!src->schema)
        return MK_NOMEM;
    const char *pattern = host->opt_string(ctx, "path");
    int g = glob(pattern, GLOB_ERR, NULL, &src->files);
    if (g == GLOB_NOMATCH) {
        host->error(ctx, "no file matches %s (paths are relative to the pipeline file)", pattern);
        return MK_ERROR;
    }
    if (g != 0) {
        host->error(ctx, "cannot read the files of %s", pattern);
        return MK_ERROR;
    }
    if (choose_files(src) != 0)
        return MK_ERROR;
    /* Every file of the glob is a part from the start, so that a row's
     * label ("feed/b.xml" when there are several) does not depend on how
     * far the read-ahead has got, nor on which files a shard reads. */
    for (size_t i = src->files.gl_pathc; i-- > 0;)
        host->source_part(ctx, (uint32_t)i, src->files.gl_pathv[i]);
    host->text_checked(ctx); /* libxml2 checks UTF-8; every value is NFC */
    return MK_OK;
}

static const mk_schema *xml_source_schema(void *state)
{
    return ((xml_source *)state)->schema;
}

static int xml_source_next_batch(void *state, mk_batch *b)
{
    xml_source *src = state;
    src->batch = b;
    /* libxml2 reports encoding errors through the thread's handler, not
     * the reader's: catch them on the read-ahead thread too */
    xmlSetStructuredErrorFunc(src, on_libxml_error);
    while (src->file_index < src->npick) {
        if (!src->reader) {
            if (src->host->stopping())
                return MK_STOPPED;
            if (open_document(src) != 0)
                return MK_ERROR;
        }
        int rc = walk(src);
        if (rc < 0)
            return MK_ERROR;
        if (rc == 0)
            return MK_OK;
        src->file_index++;
    }
    return MK_DONE;
}

static void xml_source_close(void *state)
{
    xml_source *src = state;
    if (!src)
        return;
    close_document(src);
    for (size_t f = 0; src->text && f < src->paths.nfields; f++)
        vn_buf_free(&src->text[f]);
    free(src->text);
    free(src->present);
    free(src->cells);
    free(src->frames);
    vn_buf_free(&src->nfc);
    xml_paths_free(&src->paths);
    globfree(&src->files);
    free(src->pick);
    free(src);
}

const mk_source_ops xml_source_ops = {
    xml_source_open,
    xml_source_schema,
    xml_source_next_batch,
    xml_source_close,
};
