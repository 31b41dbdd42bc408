/*
 * pipefile.h -- pipeline files as a tree of YAML nodes with positions.
 *
 * libyaml parses the file; the tree keeps every node's line and column so
 * later checks can say file:line:column.  Scalars have ${VAR} and
 * ${VAR:-default} expanded from the variables given (--set) and the
 * environment, in that order; an undefined variable without a default is
 * an error at its position.  Limits (one document, nesting depth, what
 * aliases may copy, no NUL in a value) act while the file is parsed; see
 * docs/PIPELINES.md, "YAML limits".
 */
#ifndef MEKONG_PIPEFILE_H
#define MEKONG_PIPEFILE_H

#include <stddef.h>

typedef enum cfg_kind { CFG_SCALAR, CFG_MAP, CFG_SEQ } cfg_kind;

typedef struct cfg_node {
    cfg_kind kind;
    int line, column;   /* 1-based */
    char *value;        /* scalar, expanded */
    int quoted;         /* scalar was quoted in the file */
    size_t count;       /* map pairs or sequence items */
    struct cfg_node **keys;  /* map: key scalars */
    struct cfg_node **items; /* map: values; sequence: items */
} cfg_node;

typedef struct cfg_vars {
    const char **names;
    const char **values;
    size_t count;
} cfg_vars;

/* Parse path.  On failure NULL, with "path:line:col: message" in err. */
cfg_node *cfg_load(const char *path, const cfg_vars *vars, char *err, size_t errlen);
void cfg_free(cfg_node *n);
/* Value of key in a map, or NULL. */
cfg_node *cfg_get(const cfg_node *map, const char *key);
/* A scalar that means NULL as a cell: unquoted ~, null or nothing. */
int cfg_is_null(const cfg_node *n);
const char *cfg_kind_name(cfg_kind k);

/* Trees made in memory: a node (value copied; "" for maps and lists),
 * an item added to a map under key or to a list (key NULL; the item is
 * owned by n afterwards, freed on failure), a deep copy.  -1/NULL when out
 * of memory. */
cfg_node *cfg_new(cfg_kind kind, const char *value, int line, int column);
int cfg_add(cfg_node *n, const char *key, cfg_node *item);
cfg_node *cfg_copy(const cfg_node *n);


#endif
