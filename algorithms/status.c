/* Status strings, the kept failure reason, and small shared helpers. */
#include "algo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static _Thread_local char last_reason[512];

const char *conv_status_str(conv_status s)
{
    switch (s) {
    case CONV_OK: return "ok";
    case CONV_EINVAL: return "invalid argument";
    case CONV_EUNSUPPORTED: return "unsupported";
    case CONV_ENOMEM: return "out of memory";
    case CONV_ESTATE: return "call out of order";
    case CONV_EINTERNAL: return "internal failure";
    }
    return "unknown status";
}

const char *conv_reason(void)
{
    return last_reason;
}

conv_status conv_fail(conv_status s, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(last_reason, sizeof last_reason, fmt, ap);
    va_end(ap);
    return s;
}

void conv_clear_reason(void)
{
    last_reason[0] = '\0';
}

int conv_why(char *why, size_t n, const char *fmt, ...)
{
    va_list ap;

    if (why == NULL || n == 0)
        return 0;
    va_start(ap, fmt);
    vsnprintf(why, n, fmt, ap);
    va_end(ap);
    return 0;
}

double conv_now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int conv_cpu_avx2_fma(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

void *conv_alloc(size_t bytes)
{
    void *p = NULL;
    size_t rounded;

    if (bytes == 0 || bytes > SIZE_MAX - 64)
        return NULL;
    rounded = (bytes + 63) & ~(size_t)63;
    if (posix_memalign(&p, 64, rounded) != 0)
        return NULL;
    return p;
}

void conv_free(void *p)
{
    free(p);
}

int conv_mul_size(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a)
        return 0;
    *out = a * b;
    return 1;
}

void conv_format_bytes(size_t bytes, char *buf, size_t n)
{
    if (bytes >= ((size_t)1 << 20))
        snprintf(buf, n, "%.1f MiB", (double)bytes / (1 << 20));
    else if (bytes >= 1024)
        snprintf(buf, n, "%.1f KiB", (double)bytes / 1024);
    else
        snprintf(buf, n, "%zu B", bytes);
}
