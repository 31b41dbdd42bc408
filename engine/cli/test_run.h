/*
 * test_run.h -- running the cases of a rule test file through the real
 * runner (test_run.c), for `mekong test` (cmd_test.c).
 *
 * The cases become a pipeline made in memory: a built-in source that
 * gives one case's input row per batch, the lua step with the test file's
 * script, params and read (every other option takes its declared default, as
 * in `mekong run`), and a built-in sink that captures the rows that pass.
 * Rejects, drops and warnings are watched as the run gives them.  So a
 * rule meets the same host, the same fates and the same checks as in a
 * pipeline: there is one host table.
 */
#ifndef MEKONG_TEST_RUN_H
#define MEKONG_TEST_RUN_H

#include <stddef.h>

#include "pipefile.h"
#include "plugin.h"

enum { TEST_NO_FATE, TEST_PASS, TEST_REJECT, TEST_DROP };

typedef struct test_warning {
    char *rule, *message;
} test_warning;

/* A row that came out of the rule: column names and values (NULL: NULL). */
typedef struct test_row {
    size_t ncols;
    char **names, **values;
    size_t *lens;
} test_row;

typedef struct test_case {
    const cfg_node *input; /* map of column: value (scalars) */
    int line;              /* of the case in the test file */
    /* what became of it */
    int fate;
    char *reject_rule, *reject_reason;
    test_warning *warnings;
    size_t nwarnings;
    test_row *rows;
    size_t nrows;
    char *failure;         /* the run failed at this case: why */
} test_case;

typedef struct test_file_run {
    const char *path;       /* the test file (messages) */
    const char *dir;        /* its folder: relative paths */
    const char *script;     /* the rule file */
    const cfg_node *params; /* map or NULL */
    const cfg_node *read;   /* the lua step's read: (list or scalar) or NULL */
} test_file_run;

/* Run every case; their outcomes are filled in.  When the run fails at a
 * case (a typo in the rule, the instruction budget), that case gets the
 * failure and the cases after it run again in a new run.  0, or -1 when
 * the pipeline cannot be built (the message is printed). */
int mk_test_run_cases(const mk_plugin_path *sp, const test_file_run *t, test_case *cases,
                      size_t n);
void mk_test_case_clear(test_case *c);

#endif
