/*
 * pipefile.c -- see pipefile.h.  Builds our own small tree (so the rest of
 * the engine never sees libyaml types) from libyaml's event stream, not its
 * document loader: limits then act while the file is read.  A file nested
 * 100,000 levels deep stops at level 65, not after all of it was loaded,
 * and aliases are expanded here, under a budget, so a few hundred bytes of
 * nested aliases cannot ask for gigabytes.
 */
#include "config.h"

#include "pipefile.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

void cfg_free(cfg_node *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->count; i++) {
        if (n->keys)
            cfg_free(n->keys[i]);
        cfg_free(n->items[i]);
    }
    free(n->keys);
    free(n->items);
    free(n->value);
    free(n);
}

const char *cfg_kind_name(cfg_kind k)
{
    switch (k) {
    case CFG_SCALAR: return "a scalar";
    case CFG_MAP: return "a mapping";
    case CFG_SEQ: return "a list";
    }
    return "?";
}

cfg_node *cfg_get(const cfg_node *map, const char *key)
{
    if (!map || map->kind != CFG_MAP)
        return NULL;
    for (size_t i = 0; i < map->count; i++)
        if (strcmp(map->keys[i]->value, key) == 0)
            return map->items[i];
    return NULL;
}

/* Limits on what a pipeline file may become; see docs/PIPELINES.md. */
enum {
    MAX_DEPTH = 64,                      /* nested lists and mappings */
    MAX_ALIAS_NODES = 100000,            /* nodes copied by aliases, in all */
    MAX_ALIAS_BYTES = 16 * 1024 * 1024,  /* scalar text copied by aliases */
};

/* An anchored node, kept until the file is read; node is owned by the tree. */
typedef struct anchor {
    char *name;
    const cfg_node *node;
    size_t nodes, bytes; /* its size, to charge each alias of it */
} anchor;

/* A list or mapping being read. */
typedef struct frame {
    cfg_node *n;
    cfg_node *key;   /* mapping: the key read, waiting for its value */
    size_t cap;      /* room in n->items (and n->keys) */
    char *anchor;    /* its anchor, registered when it is complete */
    size_t nodes0, bytes0;
} frame;

typedef struct loader {
    const char *path;
    const cfg_vars *vars;
    char *err;
    size_t errlen;
    frame stack[MAX_DEPTH];
    int depth;
    cfg_node *root;
    int documents;
    anchor *anchors; /* open addressing, a power of two in size */
    size_t nanchors, anchor_cap;
    size_t nodes, bytes;              /* made so far, copies included */
    size_t alias_nodes, alias_bytes;  /* copied by aliases */
} loader;

static const char *lookup_var(const loader *ld, const char *name)
{
    for (size_t i = 0; ld->vars && i < ld->vars->count; i++)
        if (strcmp(ld->vars->names[i], name) == 0)
            return ld->vars->values[i];
    return getenv(name);
}

/* Expand ${VAR} and ${VAR:-default}; "$$" is a literal "$".  Returns a
 * malloc'd string or NULL with err set. */
static char *expand(const loader *ld, const char *s, int line, int col)
{
    size_t cap = strlen(s) + 64, len = 0;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    for (const char *p = s; *p;) {
        const char *piece = p;
        size_t piece_len = 1;
        char *name = NULL;
        if (p[0] == '$' && p[1] == '$') {
            piece_len = 1;
            p += 2;
        } else if (p[0] == '$' && p[1] == '{') {
            const char *end = strchr(p, '}');
            if (!end) {
                snprintf(ld->err, ld->errlen,
                         "%s:%d:%d: unterminated ${ in \"%s\": close it with }", ld->path, line,
                         col, s);
                free(out);
                return NULL;
            }
            const char *colon = strstr(p, ":-");
            if (colon && colon > end)
                colon = NULL;
            const char *name_end = colon ? colon : end;
            name = strndup(p + 2, (size_t)(name_end - p - 2));
            const char *value = name ? lookup_var(ld, name) : NULL;
            if (!value && colon) {
                piece = colon + 2;
                piece_len = (size_t)(end - colon - 2);
            } else if (!value) {
                snprintf(ld->err, ld->errlen,
                         "%s:%d:%d: variable ${%s} is not set: export it, pass --set %s=VALUE, "
                         "or write ${%s:-default}",
                         ld->path, line, col, name ? name : "", name ? name : "",
                         name ? name : "");
                free(name);
                free(out);
                return NULL;
            } else {
                piece = value;
                piece_len = strlen(value);
            }
            free(name);
            p = end + 1;
        } else {
            p++;
        }
        if (len + piece_len + 1 > cap) {
            cap = (len + piece_len + 1) * 2;
            char *grown = realloc(out, cap);
            if (!grown) {
                free(out);
                return NULL;
            }
            out = grown;
        }
        memcpy(out + len, piece, piece_len);
        len += piece_len;
    }
    out[len] = '\0';
    return out;
}

static int fail_at(loader *ld, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* "path:line:col: message" into ld->err; returns -1 for the caller to pass on. */
static int fail_at(loader *ld, int line, int col, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(ld->err, ld->errlen, "%s:%d:%d: %s", ld->path, line, col, msg);
    return -1;
}

#define MARK_LINE(m) ((int)(m)->line + 1)
#define MARK_COL(m) ((int)(m)->column + 1)

static int nomem(loader *ld)
{
    snprintf(ld->err, ld->errlen, "%s: out of memory", ld->path);
    return -1;
}

/* ---- anchors: a hash table, so many anchors and aliases stay linear ---- */

static size_t hash_name(const char *s)
{
    size_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static anchor *anchor_slot(anchor *t, size_t cap, const char *name)
{
    size_t i = hash_name(name) & (cap - 1);
    while (t[i].name && strcmp(t[i].name, name) != 0)
        i = (i + 1) & (cap - 1);
    return &t[i];
}

static int anchors_grow(loader *ld)
{
    size_t cap = ld->anchor_cap ? ld->anchor_cap * 2 : 64;
    anchor *t = calloc(cap, sizeof *t);
    if (!t)
        return -1;
    for (size_t i = 0; i < ld->anchor_cap; i++)
        if (ld->anchors[i].name)
            *anchor_slot(t, cap, ld->anchors[i].name) = ld->anchors[i];
    free(ld->anchors);
    ld->anchors = t;
    ld->anchor_cap = cap;
    return 0;
}

/* Remember node under name (taken over).  A later anchor of the same name
 * replaces the earlier one, as YAML says. */
static int anchor_add(loader *ld, char *name, const cfg_node *node, size_t nodes, size_t bytes)
{
    if ((ld->nanchors + 1) * 2 > ld->anchor_cap && anchors_grow(ld) != 0) {
        free(name);
        return nomem(ld);
    }
    anchor *a = anchor_slot(ld->anchors, ld->anchor_cap, name);
    if (a->name)
        free(a->name);
    else
        ld->nanchors++;
    *a = (anchor){name, node, nodes, bytes};
    return 0;
}

static const anchor *anchor_find(loader *ld, const char *name)
{
    if (!ld->anchor_cap)
        return NULL;
    const anchor *a = anchor_slot(ld->anchors, ld->anchor_cap, name);
    return a->name ? a : NULL;
}

/* ---- building the tree ------------------------------------------------- */

/* Room for one more item in f; doubling, so a long list stays linear. */
static int frame_grow(frame *f)
{
    if (f->n->count < f->cap)
        return 0;
    size_t cap = f->cap ? f->cap * 2 : 4;
    cfg_node **items = realloc(f->n->items, cap * sizeof *items);
    if (!items)
        return -1;
    f->n->items = items;
    if (f->n->kind == CFG_MAP) {
        cfg_node **keys = realloc(f->n->keys, cap * sizeof *keys);
        if (!keys)
            return -1;
        f->n->keys = keys;
    }
    f->cap = cap;
    return 0;
}

/* Give node to the list or mapping being read (or make it the root); node
 * is owned by the tree afterwards, or freed on failure. */
static int attach(loader *ld, cfg_node *node)
{
    if (ld->depth == 0) {
        ld->root = node;
        return 0;
    }
    frame *f = &ld->stack[ld->depth - 1];
    if (f->n->kind == CFG_MAP && !f->key) {
        if (node->kind != CFG_SCALAR) {
            fail_at(ld, node->line, node->column, "a key must be a plain word");
            cfg_free(node);
            return -1;
        }
        f->key = node;
        return 0;
    }
    if (frame_grow(f) != 0) {
        cfg_free(node);
        return nomem(ld);
    }
    if (f->key)
        f->n->keys[f->n->count] = f->key;
    f->n->items[f->n->count++] = node;
    f->key = NULL;
    return 0;
}

static int on_scalar(loader *ld, const yaml_event_t *ev)
{
    const yaml_mark_t *m = &ev->start_mark;
    const char *text = (const char *)ev->data.scalar.value;
    /* our values are C strings: a NUL would silently end one early */
    if (memchr(text, '\0', ev->data.scalar.length))
        return fail_at(ld, MARK_LINE(m), MARK_COL(m),
                       "a NUL character (\\0) inside a value: remove it (values are text)");
    cfg_node *n = calloc(1, sizeof *n);
    if (!n)
        return nomem(ld);
    n->kind = CFG_SCALAR;
    n->line = MARK_LINE(m);
    n->column = MARK_COL(m);
    n->quoted = ev->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                ev->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
    ld->err[0] = '\0';
    n->value = expand(ld, text, n->line, n->column);
    if (!n->value) {
        free(n);
        return ld->err[0] ? -1 : nomem(ld);
    }
    size_t bytes = strlen(n->value);
    ld->nodes++;
    ld->bytes += bytes;
    if (attach(ld, n) != 0)
        return -1;
    const char *name = (const char *)ev->data.scalar.anchor;
    if (!name)
        return 0;
    char *copy = strdup(name);
    return copy ? anchor_add(ld, copy, n, 1, bytes) : nomem(ld);
}

/* A list or mapping begins: refused here, while parsing, when too deep. */
static int on_start(loader *ld, const yaml_event_t *ev, cfg_kind kind)
{
    const yaml_mark_t *m = &ev->start_mark;
    if (ld->depth == MAX_DEPTH)
        return fail_at(ld, MARK_LINE(m), MARK_COL(m),
                       "nested too deeply (more than %d levels of lists and mappings)",
                       MAX_DEPTH);
    const yaml_char_t *name =
        kind == CFG_MAP ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
    frame *f = &ld->stack[ld->depth];
    *f = (frame){calloc(1, sizeof(cfg_node)), NULL, 0, NULL, ld->nodes, ld->bytes};
    if (!f->n)
        return nomem(ld);
    ld->depth++; /* from here on the frame is freed on failure */
    f->n->kind = kind;
    f->n->line = MARK_LINE(m);
    f->n->column = MARK_COL(m);
    ld->nodes++;
    if (name && !(f->anchor = strdup((const char *)name)))
        return nomem(ld);
    return frame_grow(f) == 0 ? 0 : nomem(ld);
}

typedef struct keyref {
    const char *key;
    size_t i;
} keyref;

static int by_key(const void *a, const void *b)
{
    const keyref *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* Duplicate keys by sorting (n log n: a pairwise check took seconds for
 * 50,000 keys).  Names the earliest second occurrence, as a reader would. */
static int check_duplicates(loader *ld, const cfg_node *map)
{
    if (map->count < 2)
        return 0;
    keyref *r = malloc(map->count * sizeof *r);
    if (!r)
        return nomem(ld);
    for (size_t i = 0; i < map->count; i++)
        r[i] = (keyref){map->keys[i]->value, i};
    qsort(r, map->count, sizeof *r, by_key);
    size_t first = SIZE_MAX, dup = SIZE_MAX;
    for (size_t k = 1; k < map->count; k++) {
        int second = strcmp(r[k].key, r[k - 1].key) == 0 &&
                     (k == 1 || strcmp(r[k - 1].key, r[k - 2].key) != 0);
        if (second && r[k].i < dup) {
            dup = r[k].i;
            first = r[k - 1].i;
        }
    }
    free(r);
    if (dup == SIZE_MAX)
        return 0;
    const cfg_node *k = map->keys[dup];
    return fail_at(ld, k->line, k->column, "key '%s' appears twice (first at line %d): keep one",
                   k->value, map->keys[first]->line);
}

static int on_end(loader *ld)
{
    frame *f = &ld->stack[--ld->depth];
    cfg_node *n = f->n;
    char *name = f->anchor;
    cfg_free(f->key); /* libyaml always gives a value; this is only prudence */
    if (n->kind == CFG_MAP && check_duplicates(ld, n) != 0) {
        cfg_free(n);
        free(name);
        return -1;
    }
    size_t nodes = ld->nodes - f->nodes0, bytes = ld->bytes - f->bytes0;
    if (attach(ld, n) != 0) {
        free(name);
        return -1;
    }
    return name ? anchor_add(ld, name, n, nodes, bytes) : 0;
}

/* An alias is a copy of its anchor's node, charged to the alias budget
 * before it is made: nested aliases grow the tree exponentially. */
static int on_alias(loader *ld, const yaml_event_t *ev)
{
    const yaml_mark_t *m = &ev->start_mark;
    const char *name = (const char *)ev->data.alias.anchor;
    const anchor *a = anchor_find(ld, name);
    if (!a)
        return fail_at(ld, MARK_LINE(m), MARK_COL(m),
                       "alias *%s has no complete anchor &%s before it: define the anchor "
                       "first, outside the value that uses it",
                       name, name);
    if (a->nodes > MAX_ALIAS_NODES - ld->alias_nodes ||
        a->bytes > MAX_ALIAS_BYTES - ld->alias_bytes)
        return fail_at(ld, MARK_LINE(m), MARK_COL(m),
                       "alias *%s: with its aliases expanded the file expands to too many nodes "
                       "(aliases may copy at most %d nodes and %d MiB of text in all): write "
                       "the values out or use fewer nested aliases",
                       name, MAX_ALIAS_NODES, MAX_ALIAS_BYTES >> 20);
    cfg_node *c = cfg_copy(a->node);
    if (!c)
        return nomem(ld);
    ld->alias_nodes += a->nodes;
    ld->alias_bytes += a->bytes;
    ld->nodes += a->nodes;
    ld->bytes += a->bytes;
    return attach(ld, c);
}

static int on_event(loader *ld, const yaml_event_t *ev)
{
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        /* libyaml would read on; a second document was silently dropped */
        if (ld->documents++)
            return fail_at(ld, MARK_LINE(&ev->start_mark), MARK_COL(&ev->start_mark),
                           "a second YAML document: a pipeline file holds one; remove this "
                           "'---' and what follows, or move it to a file of its own");
        return 0;
    case YAML_SCALAR_EVENT: return on_scalar(ld, ev);
    case YAML_SEQUENCE_START_EVENT: return on_start(ld, ev, CFG_SEQ);
    case YAML_MAPPING_START_EVENT: return on_start(ld, ev, CFG_MAP);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT: return on_end(ld);
    case YAML_ALIAS_EVENT: return on_alias(ld, ev);
    default: return 0;
    }
}

static int syntax_error(loader *ld, const yaml_parser_t *p)
{
    const yaml_mark_t *m =
        p->problem_mark.line || p->problem_mark.column ? &p->problem_mark : &p->context_mark;
    snprintf(ld->err, ld->errlen, "%s:%d:%d: YAML syntax error: %s%s%s", ld->path,
             MARK_LINE(m), MARK_COL(m), p->problem ? p->problem : "malformed YAML",
             p->context ? " " : "", p->context ? p->context : "");
    return -1;
}

static int parse(loader *ld, yaml_parser_t *p)
{
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(p, &ev))
            return syntax_error(ld, p);
        int rc = on_event(ld, &ev);
        int done = ev.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&ev);
        if (rc != 0)
            return -1;
        if (done)
            return 0;
    }
}

/* Frees what a failed parse left half built, and the anchors' names. */
static void loader_free(loader *ld)
{
    while (ld->depth > 0) {
        frame *f = &ld->stack[--ld->depth];
        cfg_free(f->n);
        cfg_free(f->key);
        free(f->anchor);
    }
    for (size_t i = 0; i < ld->anchor_cap; i++)
        free(ld->anchors[i].name);
    free(ld->anchors);
}

static int check_root(loader *ld)
{
    const cfg_node *root = ld->root;
    if (!root) {
        snprintf(ld->err, ld->errlen, "%s:1:1: the pipeline file is empty: see docs/PIPELINES.md",
                 ld->path);
        return -1;
    }
    if (root->kind != CFG_MAP)
        return fail_at(ld, root->line, root->column,
                       "a pipeline file is a mapping (name:, sources:, sinks: ...), not %s",
                       cfg_kind_name(root->kind));
    return 0;
}

cfg_node *cfg_load(const char *path, const cfg_vars *vars, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        snprintf(err, errlen, "%s: cannot open pipeline file: %s", path, strerror(errno));
        return NULL;
    }
    yaml_parser_t parser;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_file(&parser, fp);
    loader ld = {.path = path, .vars = vars, .err = err, .errlen = errlen};
    if (parse(&ld, &parser) != 0 || check_root(&ld) != 0) {
        cfg_free(ld.root);
        ld.root = NULL;
    }
    loader_free(&ld);
    yaml_parser_delete(&parser);
    fclose(fp);
    return ld.root;
}

/* ---- trees made in memory (mekong test builds its pipeline so) ---------- */

cfg_node *cfg_new(cfg_kind kind, const char *value, int line, int column)
{
    cfg_node *n = calloc(1, sizeof(*n));
    if (!n)
        return NULL;
    n->kind = kind;
    n->line = line;
    n->column = column;
    n->value = strdup(value ? value : "");
    if (!n->value) {
        free(n);
        return NULL;
    }
    return n;
}

static int append(cfg_node *n, cfg_node *key, cfg_node *item)
{
    cfg_node **items = realloc(n->items, (n->count + 1) * sizeof(cfg_node *));
    if (items)
        n->items = items;
    cfg_node **keys = key ? realloc(n->keys, (n->count + 1) * sizeof(cfg_node *)) : n->keys;
    if (keys)
        n->keys = keys;
    if (!items || (key && !keys) || !item) {
        cfg_free(key);
        cfg_free(item);
        return -1;
    }
    if (key)
        n->keys[n->count] = key;
    n->items[n->count++] = item;
    return 0;
}

int cfg_add(cfg_node *n, const char *key, cfg_node *item)
{
    if (n->kind == CFG_SEQ)
        return append(n, NULL, item);
    cfg_node *k = cfg_new(CFG_SCALAR, key, item ? item->line : 0, item ? item->column : 0);
    if (!k) {
        cfg_free(item);
        return -1;
    }
    return append(n, k, item);
}

cfg_node *cfg_copy(const cfg_node *n)
{
    cfg_node *c = cfg_new(n->kind, n->value, n->line, n->column);
    if (!c)
        return NULL;
    c->quoted = n->quoted;
    for (size_t i = 0; i < n->count; i++) {
        cfg_node *item = cfg_copy(n->items[i]);
        cfg_node *key = n->keys && item ? cfg_copy(n->keys[i]) : NULL;
        if (n->keys && !key) {
            cfg_free(item);
            item = NULL;
        }
        if (append(c, key, item) != 0) { /* frees key and item */
            cfg_free(c);
            return NULL;
        }
    }
    return c;
}

int cfg_is_null(const cfg_node *n)
{
    return n->kind == CFG_SCALAR && !n->quoted &&
           (!n->value[0] || strcmp(n->value, "~") == 0 || strcmp(n->value, "null") == 0);
}
