/* Running gnuplot for `convbench plot` and `convbench compare`. */
#ifndef BENCH_GNUPLOT_H
#define BENCH_GNUPLOT_H

#include <stdbool.h>
#include <stddef.h>

/* A growing string of gnuplot variables. */
typedef struct strbuf {
    char *s;
    size_t n, cap;
} strbuf;

/* An empty string; s is NULL if memory ran out, now or later. */
strbuf sb_new(void);

void sb_add(strbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Appends the gnuplot assignment name='value'; (value quoted). */
void gp_str(strbuf *b, const char *name, const char *value);

/* Appends the gnuplot assignment name=v; at full precision. */
void gp_num(strbuf *b, const char *name, double v);

/*
 * Runs `gnuplot -e VARS SCRIPT`; 0 if it worked, else -1 after a message.
 * With a `log` path gnuplot's output goes there and is then passed on
 * indented, warnings included; with NULL it goes straight to stderr.
 */
int gp_run(const char *script, const char *vars, const char *log);

/* Whether an executable gnuplot is in $PATH. */
bool gp_found(void);

/*
 * The gnuplot scripts' directory into dir[n]: $CONVBENCH_PLOTS, else
 * ../harness/plots or ../share/convbench/plots from the executable's
 * directory, whichever holds common.gp. Returns 0, or -1 after a message.
 */
int gp_find_scripts(char *dir, size_t n);

#endif
