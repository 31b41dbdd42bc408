/*
 * hook.c -- on_failure: a shell command from the pipeline file, run after a
 * run that did not succeed (exit 1 or 3), to tell someone (mail, a chat
 * webhook).  It gets the report path as $1 and in MEKONG_REPORT, with
 * MEKONG_PIPELINE, MEKONG_STATUS, MEKONG_EXIT_CODE and MEKONG_FAILURE;
 * stdin is /dev/null, its output goes to mekong's stderr.  It runs in its
 * own process group, which is killed (SIGTERM, then SIGKILL 2 s later) at
 * on_failure.timeout, so a hung mail command never keeps the night's
 * scheduler waiting.  Its failure is logged and does not change mekong's
 * exit code.  The command is as trusted as the pipeline file.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "ops.h"
#include "run_internal.h"

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void child(const char *command, mk_run *run, const char *report, int exit_code)
{
    setpgid(0, 0);
    int null = open("/dev/null", O_RDONLY);
    if (null >= 0) {
        dup2(null, 0);
        close(null);
    }
    dup2(2, 1);
    char code[16];
    snprintf(code, sizeof code, "%d", exit_code);
    setenv("MEKONG_REPORT", report ? report : "", 1);
    setenv("MEKONG_PIPELINE", run->p->name, 1);
    setenv("MEKONG_STATUS", run->status ? run->status : "failed", 1);
    setenv("MEKONG_EXIT_CODE", code, 1);
    setenv("MEKONG_FAILURE", run->failure, 1);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    execl("/bin/sh", "sh", "-c", command, "mekong-on-failure", report ? report : "", (char *)NULL);
    _exit(127);
}

/* Wait for pid until deadline; 1 when it ended (status set). */
static int wait_until(pid_t pid, double deadline, int *status)
{
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid)
            return 1;
        if (r < 0 && errno != EINTR)
            return 1; /* not ours any more */
        if (now_seconds() >= deadline)
            return 0;
        struct timespec nap = {0, 20 * 1000 * 1000};
        nanosleep(&nap, NULL);
    }
}

void mk_hook_run(mk_run *run, const char *report, int exit_code)
{
    const mk_ops_config *c = run->p->ops;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        mk_log(MK_LOG_ERROR, "on_failure: cannot start the command: %s", strerror(errno));
        return;
    }
    if (pid == 0)
        child(c->on_failure, run, report, exit_code);
    setpgid(pid, pid); /* also here: no race with the child's own call */
    int status = 0;
    if (!wait_until(pid, now_seconds() + c->on_failure_timeout, &status)) {
        kill(-pid, SIGTERM);
        if (!wait_until(pid, now_seconds() + 2, &status)) {
            kill(-pid, SIGKILL);
            waitpid(pid, &status, 0);
        }
        mk_log(MK_LOG_ERROR, "on_failure: the command did not finish in %g s and was killed",
               c->on_failure_timeout);
        return;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        mk_log(MK_LOG_INFO, "on_failure: the command ran (report %s)", report ? report : "none");
    else if (WIFEXITED(status))
        mk_log(MK_LOG_ERROR, "on_failure: the command failed with exit status %d",
               WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        mk_log(MK_LOG_ERROR, "on_failure: the command was killed by signal %d", WTERMSIG(status));
}
