/* `convbench list` and `convbench info`. */
#ifndef BENCH_INFO_H
#define BENCH_INFO_H

#include <stddef.h>

int list_main(int argc, char **argv);
int info_main(int argc, char **argv);

/* "1.5 MiB"-style text for a byte count. */
void bench_format_bytes(double bytes, char *buf, size_t n);

#endif
