/*
 * table_run.c -- see table_run.h.
 */
#include "config.h"

#include "table_run.h"

#include <stdlib.h>
#include <string.h>

#include "pipeline.h"

static int add_scalar(cfg_node *map, const char *key, const char *value)
{
    return cfg_add(map, key, cfg_new(CFG_SCALAR, value, 1, 1));
}

/* [ { plugin: NAME } ], and the step in *step. */
static cfg_node *step_list(const char *plugin, cfg_node **step)
{
    cfg_node *list = cfg_new(CFG_SEQ, NULL, 1, 1);
    *step = cfg_new(CFG_MAP, NULL, 1, 1);
    if (!list || !*step || cfg_add(list, NULL, *step) != 0 || add_scalar(*step, "plugin", plugin)) {
        cfg_free(list);
        return NULL;
    }
    return list;
}

cfg_node *mk_table_tree(const char *path, const char *delimiter, const char *schema,
                        const char *sink)
{
    cfg_node *root = cfg_new(CFG_MAP, NULL, 1, 1), *src, *tr = NULL, *snk;
    cfg_node *sources = step_list("csv", &src);
    cfg_node *transforms = schema ? step_list("schema", &tr) : NULL;
    cfg_node *sinks = step_list(sink, &snk);
    int rc = !root || !sources || (schema && !transforms) || !sinks;
    if (!rc)
        rc = add_scalar(src, "name", "table") | add_scalar(src, "path", path) |
             (delimiter ? add_scalar(src, "delimiter", delimiter) : 0) |
             (schema ? add_scalar(tr, "schema", schema) | add_scalar(tr, "report_fields", "false")
                     : 0);
    if (!rc) {
        rc = add_scalar(root, "name", "mekong-table") | add_scalar(root, "rejects", "/dev/null") |
             cfg_add(root, "sources", sources) |
             (transforms ? cfg_add(root, "transforms", transforms) : 0) |
             cfg_add(root, "sinks", sinks);
        sources = transforms = sinks = NULL; /* owned by root now, even on failure */
    }
    cfg_free(sources);
    cfg_free(transforms);
    cfg_free(sinks);
    if (rc) {
        cfg_free(root);
        return NULL;
    }
    return root;
}

static void remove_key(cfg_node *map, const char *key)
{
    for (size_t i = 0; i < map->count; i++) {
        if (strcmp(map->keys[i]->value, key) != 0)
            continue;
        cfg_free(map->keys[i]);
        cfg_free(map->items[i]);
        memmove(&map->keys[i], &map->keys[i + 1], (map->count - i - 1) * sizeof(cfg_node *));
        memmove(&map->items[i], &map->items[i + 1], (map->count - i - 1) * sizeof(cfg_node *));
        map->count--;
        return;
    }
}

int mk_table_retarget(cfg_node *root, const char *sink)
{
    static const char *const outputs[] = {"sinks", "rejects", "report", "html_report",
                                          "thresholds"};
    for (size_t i = 0; i < sizeof outputs / sizeof *outputs; i++)
        remove_key(root, outputs[i]);
    cfg_node *step;
    cfg_node *sinks = step_list(sink, &step);
    if (!sinks)
        return -1;
    return cfg_add(root, "sinks", sinks) | add_scalar(root, "rejects", "/dev/null");
}

int mk_table_run(const cfg_node *root, const char *file, const mk_plugin_path *sp,
                 mk_run_options *o)
{
    mk_pipeline p;
    memset(&p, 0, sizeof p);
    char *dir = mk_dir_of(file);
    int rc = dir ? mk_pipeline_build(root, file, dir, sp, &p) : -1;
    free(dir);
    if (rc != 0) {
        mk_pipeline_free(&p);
        return MK_EXIT_USAGE;
    }
    free(p.report_path); /* the commands write no report */
    p.report_path = NULL;
    free(p.html_report_path);
    p.html_report_path = NULL;
    rc = mk_run_pipeline(&p, o);
    mk_pipeline_free(&p);
    return rc;
}
