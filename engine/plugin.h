/*
 * plugin.h -- finding, loading and checking plugins.
 *
 * Search order: --plugin-dir (each, in order), MEKONG_PLUGIN_PATH
 * (colon-separated), the build tree when this mekong runs from it, then
 * the installed plugin directory.  In a directory D, plugin NAME is D/NAME.so
 * or, in a build tree, D/NAME/.libs/NAME.so.  A loaded plugin must prove
 * its ABI (magic and version) before anything else of it is used.
 */
#ifndef MEKONG_PLUGIN_H
#define MEKONG_PLUGIN_H

#include <stddef.h>

#include "mekong.h"

typedef struct mk_plugin_path {
    char **dirs;
    size_t count;
} mk_plugin_path;

typedef struct mk_loaded_plugin {
    const mk_plugin *desc;
    void *handle;
    char *path;
} mk_loaded_plugin;

/* Build the search path; extra_dirs from --plugin-dir. */
int mk_plugin_path_init(mk_plugin_path *sp, char *const *extra_dirs, size_t nextra);
void mk_plugin_path_free(mk_plugin_path *sp);
/* The path as one string for messages ("a:b:c"), malloc'd. */
char *mk_plugin_path_describe(const mk_plugin_path *sp);

/* Load plugin name.  0, or -1 with a message for people in err. */
int mk_plugin_load(const mk_plugin_path *sp, const char *name, mk_loaded_plugin *out, char *err,
                   size_t errlen);
/* Load a shared object by file path and check it. */
int mk_plugin_load_file(const char *path, mk_loaded_plugin *out, char *err, size_t errlen);
void mk_plugin_unload(mk_loaded_plugin *p);
/* Make a plugin compiled into the program loadable by its name (found
 * before the search path; never unloaded).  0, or -1 when the table is full. */
int mk_plugin_register_builtin(const mk_plugin *d);

/* Call fn for every plugin file on the search path (first of each name). */
typedef void (*mk_plugin_visit_fn)(const char *name, const char *path, void *data);
void mk_plugin_each(const mk_plugin_path *sp, mk_plugin_visit_fn fn, void *data);

#endif
