/* Running gnuplot for `convbench plot` and `convbench compare`. */
#include "gnuplot.h"
#include "args.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

strbuf sb_new(void)
{
    strbuf b = {calloc(256, 1), 0, 256};
    return b;
}

void sb_add(strbuf *b, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    int k = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (k < 0 || !b->s)
        return;
    if (b->n + (size_t)k + 1 > b->cap) {
        char *grown = realloc(b->s, b->cap = 2 * (b->n + (size_t)k + 1));
        if (!grown) {
            free(b->s);
            b->s = NULL;
            return;
        }
        b->s = grown;
    }
    va_start(ap, fmt);
    vsnprintf(b->s + b->n, b->cap - b->n, fmt, ap);
    va_end(ap);
    b->n += (size_t)k;
}

/* In gnuplot's single quotes '' stands for ', and a line break would end
 * the command, so it becomes a space. */
void gp_str(strbuf *b, const char *name, const char *value)
{
    sb_add(b, "%s='", name);
    for (const char *p = value; *p; p++) {
        if (*p == '\'')
            sb_add(b, "''");
        else
            sb_add(b, "%c", *p == '\n' || *p == '\r' ? ' ' : *p);
    }
    sb_add(b, "'; ");
}

void gp_num(strbuf *b, const char *name, double v)
{
    sb_add(b, "%s=%.17g; ", name, v);
}

/* Passes on what gnuplot wrote, warnings included. */
static void show_log(const char *log, const char *script)
{
    FILE *f = fopen(log, "r");
    char line[512];
    bool first = true;

    while (f && fgets(line, sizeof line, f)) {
        if (line[strspn(line, " \t\r\n")] == '\0')
            continue;
        if (first)
            bench_error("gnuplot said, drawing with %s:", script);
        first = false;
        fprintf(stderr, "    %s", line);
    }
    if (f)
        fclose(f);
}

int gp_run(const char *script, const char *vars, const char *log)
{
    char *argv[] = {"gnuplot", "-e", (char *)vars, (char *)script, NULL};
    posix_spawn_file_actions_t fa;
    int st = 0, err;
    pid_t pid;

    posix_spawn_file_actions_init(&fa);
    if (log != NULL) {
        posix_spawn_file_actions_addopen(&fa, 2, log, O_WRONLY | O_CREAT
                                         | O_TRUNC, 0644);
        posix_spawn_file_actions_adddup2(&fa, 2, 1);
    }
    err = posix_spawnp(&pid, "gnuplot", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (err) {
        bench_error("cannot run gnuplot (%s); install it: apt-get install "
                    "gnuplot-nox", strerror(err));
        return -1;
    }
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        continue;
    if (log != NULL)
        show_log(log, script);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
        return 0;
    bench_error("gnuplot failed (%s %d) drawing with %s",
                WIFEXITED(st) ? "exit status" : "signal",
                WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), script);
    return -1;
}

bool gp_found(void)
{
    const char *path = getenv("PATH");
    char exe[PATH_MAX];

    for (const char *p = path ? path : ""; *p;) {
        size_t n = strcspn(p, ":");
        snprintf(exe, sizeof exe, "%.*s/gnuplot", (int)n, n ? p : ".");
        if (access(exe, X_OK) == 0)
            return true;
        p += n + (p[n] == ':');
    }
    return false;
}

int gp_find_scripts(char *dir, size_t n)
{
    const char *env = getenv("CONVBENCH_PLOTS");
    char exe[PATH_MAX], probe[PATH_MAX + 64];
    ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
    const char *const rel[] = {"/../harness/plots",
                               "/../share/convbench/plots"};

    if (env && *env) {
        snprintf(dir, n, "%s", env);
        snprintf(probe, sizeof probe, "%s/common.gp", dir);
        if (access(probe, R_OK) == 0)
            return 0;
        bench_error("CONVBENCH_PLOTS '%s': no common.gp there; it must "
                    "name the gnuplot scripts' directory", env);
        return -1;
    }
    exe[k > 0 ? k : 0] = '\0';
    *(strrchr(exe, '/') ? strrchr(exe, '/') : exe) = '\0';
    for (int i = 0; i < 2; i++) {
        snprintf(dir, n, "%s%s", exe, rel[i]);
        snprintf(probe, sizeof probe, "%s/common.gp", dir);
        if (access(probe, R_OK) == 0)
            return 0;
    }
    bench_error("cannot find the gnuplot scripts (looked in %s%s and "
                "%s%s); set CONVBENCH_PLOTS to harness/plots", exe,
                rel[0], exe, rel[1]);
    return -1;
}
