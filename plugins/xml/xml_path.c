/*
 * xml_path.c -- the xml source's paths: `record` (from the document element
 * down to the repeated element) and `fields` (each relative to the record
 * element), with the prefixes of `namespaces`.
 *
 * A path is a small subset of XPath, enough to name a value and nothing
 * that needs a tree: steps `name` or `prefix:name` separated by `/`, a last
 * step `@name` or `@prefix:name` for an attribute, and `.` for the record
 * element itself.  Names are matched by namespace URI and local name, never
 * by prefix, so a document may use any prefix (or a default namespace) for
 * the URI the pipeline names.  As in XPath, a name without a prefix is in
 * no namespace: a document whose elements sit in a default namespace needs
 * a prefix for that URI in `namespaces`.
 *
 * The fields become a tree (xml_field_node) walked while the reader goes
 * down a record, so each element costs one look among the children of the
 * node above it.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xml_plugin.h"

#define XML_NS_URI "http://www.w3.org/XML/1998/namespace"

typedef struct path_ctx {
    mk_context *ctx;
    const mk_host *host;
    const char *option; /* "record" or "fields.NAME", for messages */
} path_ctx;

int xml_name_is(const xml_name *name, const char *uri, const char *local)
{
    if (strcmp(name->local, local) != 0)
        return 0;
    if (!name->uri || !uri)
        return name->uri == uri || (!name->uri && !*uri) || (!uri && !*name->uri);
    return strcmp(name->uri, uri) == 0;
}

/* The URI bound to prefix [p, p + n) by the namespaces option, or NULL. */
static const char *prefix_uri(const path_ctx *pc, const char *p, size_t n)
{
    if (n == 3 && memcmp(p, "xml", 3) == 0)
        return XML_NS_URI;
    size_t count = pc->host->opt_count(pc->ctx, "namespaces");
    for (size_t i = 0; i < count; i++) {
        const char *key = NULL, *value = NULL;
        pc->host->opt_entry(pc->ctx, "namespaces", i, &key, &value);
        if (key && strlen(key) == n && memcmp(key, p, n) == 0)
            return value;
    }
    return NULL;
}

/* A character that cannot be in a name of a path step. */
static int bad_name_char(char c)
{
    return c == '/' || c == '@' || c == '[' || c == ']' || c == '*' || c == '(' || c == ')' ||
           c == '=' || c == '"' || c == '\'' || c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Step [s, s + n) ("name" or "prefix:name") into *out; 0 or -1 after an error. */
static int parse_name(const path_ctx *pc, const char *s, size_t n, xml_name *out)
{
    const char *colon = memchr(s, ':', n);
    const char *local = colon ? colon + 1 : s;
    size_t local_len = (size_t)(s + n - local);
    for (size_t i = 0; i < n; i++) {
        if (bad_name_char(s[i])) {
            pc->host->error(pc->ctx,
                            "%s: '%.*s' is not a name (paths are name/name/@attribute, with "
                            "prefix:name for a namespace; no wildcards or predicates)",
                            pc->option, (int)n, s);
            return -1;
        }
    }
    if (local_len == 0 || (colon && (colon == s || memchr(local, ':', local_len)))) {
        pc->host->error(pc->ctx, "%s: '%.*s' is not a name", pc->option, (int)n, s);
        return -1;
    }
    out->uri = NULL;
    if (colon) {
        const char *uri = prefix_uri(pc, s, (size_t)(colon - s));
        if (!uri) {
            pc->host->error(pc->ctx,
                            "%s: the prefix '%.*s' is not declared: add it to namespaces "
                            "(namespaces: { %.*s: \"its URI\" })",
                            pc->option, (int)(colon - s), s, (int)(colon - s), s);
            return -1;
        }
        if (*uri && !(out->uri = strdup(uri)))
            return -1;
    }
    if (!(out->local = strndup(local, local_len))) {
        free(out->uri);
        return -1;
    }
    return 0;
}

static void name_free(xml_name *n)
{
    free(n->uri);
    free(n->local);
}

static int parse_record(xml_paths *p, const path_ctx *pc, const char *record)
{
    if (record[0] != '/' || record[1] == '\0') {
        pc->host->error(pc->ctx,
                        "record: '%s' must be a path from the document element, starting with "
                        "/ (record: /DanhSach/CongDan)",
                        record);
        return -1;
    }
    size_t steps = 0;
    for (const char *c = record; *c; c++)
        steps += *c == '/';
    if (!(p->record = calloc(steps, sizeof(xml_name))))
        return -1;
    const char *s = record + 1;
    while (p->record_steps < steps) {
        size_t n = strcspn(s, "/");
        if (n == 0 || *s == '@' || (n == 1 && *s == '.')) {
            pc->host->error(pc->ctx, "record: '%s' has an empty step, '.' or an attribute: "
                                     "name each element on the way", record);
            return -1;
        }
        if (parse_name(pc, s, n, &p->record[p->record_steps]) != 0)
            return -1;
        p->record_steps++;
        s += n + (s[n] == '/');
    }
    return 0;
}

/* The child of node parent called name (taking it), made when missing. */
static long child_node(xml_paths *p, size_t parent, xml_name *name)
{
    for (size_t c = p->nodes[parent].first_child; c; c = p->nodes[c].next_sibling) {
        if (xml_name_is(&p->nodes[c].name, name->uri, name->local)) {
            name_free(name);
            return (long)c;
        }
    }
    xml_field_node *grown = realloc(p->nodes, (p->nnodes + 1) * sizeof(*grown));
    if (!grown) {
        name_free(name);
        return -1;
    }
    p->nodes = grown;
    size_t c = p->nnodes++;
    memset(&p->nodes[c], 0, sizeof(p->nodes[c]));
    p->nodes[c].name = *name;
    p->nodes[c].text_field = -1;
    p->nodes[c].next_sibling = p->nodes[parent].first_child;
    p->nodes[parent].first_child = c;
    return (long)c;
}

static int add_attr(xml_paths *p, const path_ctx *pc, size_t node, xml_name *name, size_t field)
{
    xml_field_node *n = &p->nodes[node];
    for (size_t i = 0; i < n->nattrs; i++) {
        if (xml_name_is(&n->attrs[i].name, name->uri, name->local)) {
            pc->host->error(pc->ctx, "%s: the same attribute as field '%s'", pc->option,
                            p->columns[n->attrs[i].field]);
            name_free(name);
            return -1;
        }
    }
    xml_attr_field *grown = realloc(n->attrs, (n->nattrs + 1) * sizeof(*grown));
    if (!grown) {
        name_free(name);
        return -1;
    }
    n->attrs = grown;
    n->attrs[n->nattrs].name = *name;
    n->attrs[n->nattrs].field = field;
    n->nattrs++;
    return 0;
}

/* One field's path into the tree. */
static int parse_field(xml_paths *p, const path_ctx *pc, size_t field, const char *path)
{
    const char *s = path;
    while (s[0] == '.' && s[1] == '/')
        s += 2;
    size_t node = 0;
    if (strcmp(s, ".") != 0) {
        for (;;) {
            size_t n = strcspn(s, "/");
            xml_name name;
            if (n == 0) {
                pc->host->error(pc->ctx, "%s: '%s' has an empty step", pc->option, path);
                return -1;
            }
            if (*s == '@') {
                if (s[n] != '\0') {
                    pc->host->error(pc->ctx, "%s: '%s': an attribute must be the last step",
                                    pc->option, path);
                    return -1;
                }
                if (parse_name(pc, s + 1, n - 1, &name) != 0)
                    return -1;
                return add_attr(p, pc, node, &name, field);
            }
            if (n == 1 && *s == '.') {
                pc->host->error(pc->ctx, "%s: '%s': '.' may only start a path", pc->option, path);
                return -1;
            }
            if (parse_name(pc, s, n, &name) != 0)
                return -1;
            long c = child_node(p, node, &name);
            if (c < 0)
                return -1;
            node = (size_t)c;
            if (s[n] == '\0')
                break;
            s += n + 1;
        }
    }
    if (p->nodes[node].text_field >= 0) {
        pc->host->error(pc->ctx, "%s: '%s' is the same element as field '%s'", pc->option, path,
                        p->columns[p->nodes[node].text_field]);
        return -1;
    }
    p->nodes[node].text_field = (long)field;
    return 0;
}

static int parse_fields(xml_paths *p, path_ctx *pc)
{
    size_t n = pc->host->opt_count(pc->ctx, "fields");
    if (n == 0) {
        pc->host->error(pc->ctx, "fields: name at least one column (fields: { id: \"@id\" })");
        return -1;
    }
    p->columns = calloc(n, sizeof(char *));
    p->exprs = calloc(n, sizeof(char *));
    p->nodes = calloc(1, sizeof(xml_field_node));
    if (!p->columns || !p->exprs || !p->nodes)
        return -1;
    p->nnodes = 1;
    p->nodes[0].text_field = -1;
    char option[256];
    for (size_t i = 0; i < n; i++) {
        const char *key = NULL, *value = NULL;
        pc->host->opt_entry(pc->ctx, "fields", i, &key, &value);
        if (!key || !value || !*value) {
            pc->host->error(pc->ctx, "fields: '%s' needs a path ('.', '@attr', 'child/grandchild')",
                            key ? key : "?");
            return -1;
        }
        if (!(p->columns[i] = strdup(key)) || !(p->exprs[i] = strdup(value)))
            return -1;
        p->nfields = i + 1;
        snprintf(option, sizeof option, "fields.%s", key);
        pc->option = option;
        if (parse_field(p, pc, i, value) != 0)
            return -1;
    }
    return 0;
}

int xml_paths_load(xml_paths *p, mk_context *ctx, const mk_host *host)
{
    memset(p, 0, sizeof(*p));
    path_ctx pc = {ctx, host, "record"};
    size_t nns = host->opt_count(ctx, "namespaces");
    for (size_t i = 0; i < nns; i++) {
        const char *key = NULL, *value = NULL;
        host->opt_entry(ctx, "namespaces", i, &key, &value);
        if (!key || !*key || strchr(key, ':') || !value || !*value) {
            host->error(ctx, "namespaces: each entry is prefix: \"URI\" (a prefix without ':', "
                             "a URI that is not empty)");
            return MK_ERROR;
        }
    }
    if (parse_record(p, &pc, host->opt_string(ctx, "record")) != 0 || parse_fields(p, &pc) != 0)
        return MK_ERROR;
    return MK_OK;
}

void xml_paths_free(xml_paths *p)
{
    for (size_t i = 0; i < p->record_steps; i++)
        name_free(&p->record[i]);
    free(p->record);
    for (size_t i = 0; i < p->nnodes; i++) {
        if (i)
            name_free(&p->nodes[i].name);
        for (size_t a = 0; a < p->nodes[i].nattrs; a++)
            name_free(&p->nodes[i].attrs[a].name);
        free(p->nodes[i].attrs);
    }
    free(p->nodes);
    for (size_t i = 0; i < p->nfields; i++) {
        free(p->columns[i]);
        free(p->exprs[i]);
    }
    free(p->columns);
    free(p->exprs);
    memset(p, 0, sizeof(*p));
}
