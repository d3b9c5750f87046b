#ifndef CLAE_CLOCK_H
#define CLAE_CLOCK_H
#include <time.h>

/* Seconds on a monotonic clock, for timing runs and kernel builds. */
static inline double clae_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
#endif
