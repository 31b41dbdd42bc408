/*
 * fuzz_pipeline.c -- pipeline files: YAML (libyaml events, aliases under a
 * budget, depth, duplicate keys), ${VAR} expansion (variables given with
 * --set, from the environment, defaults, "$$"), and building the steps
 * (plugin lookup, declared options, types, ranges, paths, names, the
 * shared-file checks).  The input is the file as it is.  The csv plugin is
 * built in, so steps that use it get their options checked; other plugin
 * names are looked for and not found.  Loading must end (with the
 * pipeline or an error) and free everything: the sanitizers watch.
 */
#include "config.h"

#include <stdint.h>

#include "fuzz_common.h"
#include "log.h"
#include "pipeline.h"
#include "plugin.h"

const mk_plugin *mk_fuzz_csv_plugin(void);

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    mk_log_threshold = -1;
    if (mk_plugin_register_builtin(mk_fuzz_csv_plugin()) != 0)
        abort();
    setenv("MEKONG_FUZZ_DIR", "data", 1);
    setenv("MEKONG_FUZZ_EMPTY", "", 1);
    fuzz_make_dir("pipeline");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_write("p.yaml", data, size);
    static const char *names[] = {"YEAR", "IN", "NAME"};
    static const char *values[] = {"2025", "in.csv", "đợt ${YEAR}"};
    cfg_vars vars = {names, values, 3};
    char path[512];
    mk_plugin_path sp = {NULL, 0};
    mk_pipeline p;
    mk_pipeline_load(fuzz_path(path, sizeof path, "p.yaml"), &vars, &sp, &p);
    mk_pipeline_free(&p); /* after a failed load too: it frees what was built */
    return 0;
}
