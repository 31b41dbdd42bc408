/*
 * pipefile.c -- see pipefile.h.  Uses libyaml's document loader, then copies
 * the document into our own small tree (so the rest of the engine never
 * sees libyaml types) while expanding variables.
 */
#include "config.h"

#include "pipefile.h"

#include <errno.h>
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

typedef struct loader {
    yaml_document_t *doc;
    const char *path;
    const cfg_vars *vars;
    char *err;
    size_t errlen;
    int depth;
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

static cfg_node *convert(loader *ld, yaml_node_t *yn)
{
    if (++ld->depth > 64) {
        snprintf(ld->err, ld->errlen, "%s:%d:%d: nested too deeply", ld->path,
                 (int)yn->start_mark.line + 1, (int)yn->start_mark.column + 1);
        return NULL;
    }
    cfg_node *n = calloc(1, sizeof(*n));
    if (!n)
        goto nomem;
    n->line = (int)yn->start_mark.line + 1;
    n->column = (int)yn->start_mark.column + 1;
    switch (yn->type) {
    case YAML_SCALAR_NODE:
        n->kind = CFG_SCALAR;
        n->quoted = yn->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                    yn->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
        n->value = expand(ld, (const char *)yn->data.scalar.value, n->line, n->column);
        if (!n->value)
            goto fail;
        break;
    case YAML_SEQUENCE_NODE: {
        n->kind = CFG_SEQ;
        size_t count = (size_t)(yn->data.sequence.items.top - yn->data.sequence.items.start);
        n->items = calloc(count ? count : 1, sizeof(cfg_node *));
        if (!n->items)
            goto nomem;
        for (size_t i = 0; i < count; i++) {
            yaml_node_t *child = yaml_document_get_node(ld->doc, yn->data.sequence.items.start[i]);
            n->items[i] = convert(ld, child);
            n->count = i + 1;
            if (!n->items[i])
                goto fail;
        }
        break;
    }
    case YAML_MAPPING_NODE: {
        n->kind = CFG_MAP;
        size_t count = (size_t)(yn->data.mapping.pairs.top - yn->data.mapping.pairs.start);
        n->items = calloc(count ? count : 1, sizeof(cfg_node *));
        n->keys = calloc(count ? count : 1, sizeof(cfg_node *));
        if (!n->items || !n->keys)
            goto nomem;
        for (size_t i = 0; i < count; i++) {
            yaml_node_pair_t *pair = &yn->data.mapping.pairs.start[i];
            yaml_node_t *k = yaml_document_get_node(ld->doc, pair->key);
            yaml_node_t *v = yaml_document_get_node(ld->doc, pair->value);
            n->keys[i] = convert(ld, k);
            n->items[i] = n->keys[i] ? convert(ld, v) : NULL;
            n->count = i + 1;
            if (!n->keys[i] || !n->items[i])
                goto fail;
            if (n->keys[i]->kind != CFG_SCALAR) {
                snprintf(ld->err, ld->errlen, "%s:%d:%d: a key must be a plain word", ld->path,
                         n->keys[i]->line, n->keys[i]->column);
                goto fail;
            }
            for (size_t j = 0; j < i; j++) {
                if (strcmp(n->keys[j]->value, n->keys[i]->value) == 0) {
                    snprintf(ld->err, ld->errlen,
                             "%s:%d:%d: key '%s' appears twice (first at line %d): keep one",
                             ld->path, n->keys[i]->line, n->keys[i]->column, n->keys[i]->value,
                             n->keys[j]->line);
                    goto fail;
                }
            }
        }
        break;
    }
    default:
        snprintf(ld->err, ld->errlen, "%s:%d:%d: empty node", ld->path, n->line, n->column);
        goto fail;
    }
    ld->depth--;
    return n;
nomem:
    snprintf(ld->err, ld->errlen, "%s: out of memory", ld->path);
fail:
    cfg_free(n);
    return NULL;
}

cfg_node *cfg_load(const char *path, const cfg_vars *vars, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        snprintf(err, errlen, "%s: cannot open pipeline file: %s", path, strerror(errno));
        return NULL;
    }
    yaml_parser_t parser;
    yaml_document_t doc;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_file(&parser, fp);
    cfg_node *root = NULL;
    if (!yaml_parser_load(&parser, &doc)) {
        const yaml_mark_t *m =
            parser.problem_mark.line || parser.problem_mark.column ? &parser.problem_mark
                                                                   : &parser.context_mark;
        snprintf(err, errlen, "%s:%d:%d: YAML syntax error: %s%s%s", path, (int)m->line + 1,
                 (int)m->column + 1, parser.problem ? parser.problem : "malformed YAML",
                 parser.context ? " " : "", parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        fclose(fp);
        return NULL;
    }
    yaml_node_t *top = yaml_document_get_root_node(&doc);
    if (!top) {
        snprintf(err, errlen, "%s:1:1: the pipeline file is empty: see docs/PIPELINES.md", path);
    } else {
        loader ld = {&doc, path, vars, err, errlen, 0};
        root = convert(&ld, top);
        if (root && root->kind != CFG_MAP) {
            snprintf(err, errlen,
                     "%s:%d:%d: a pipeline file is a mapping (name:, sources:, sinks: ...), not %s",
                     path, root->line, root->column, cfg_kind_name(root->kind));
            cfg_free(root);
            root = NULL;
        }
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    fclose(fp);
    return root;
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
