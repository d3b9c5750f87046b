/* clae_parallel_for: static contiguous shares on pthreads. */
#include "clae/parallel.h"

#include <pthread.h>
#include <unistd.h>

#define MAX_THREADS 64

typedef struct {
    clae_range_fn fn;
    void *arg;
    size_t begin, end;
} share;

static void *run_share(void *p)
{
    share *s = p;
    if (s->begin < s->end) s->fn(s->arg, s->begin, s->end);
    return NULL;
}

int clae_host_threads(void)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    return cores < 1 ? 1 : cores > MAX_THREADS ? MAX_THREADS : (int)cores;
}

void clae_parallel_for(size_t n, int threads, clae_range_fn fn, void *arg)
{
    if (threads < 1) threads = 1;
    if (threads > MAX_THREADS) threads = MAX_THREADS;
    if ((size_t)threads > n) threads = n ? (int)n : 1;
    share shares[MAX_THREADS];
    pthread_t ids[MAX_THREADS];
    int started[MAX_THREADS] = {0};
    for (int k = 0; k < threads; k++)
        shares[k] = (share){fn, arg, n * (size_t)k / (size_t)threads,
                            n * (size_t)(k + 1) / (size_t)threads};
    for (int k = 1; k < threads; k++)
        started[k] = pthread_create(&ids[k], NULL, run_share, &shares[k]) == 0;
    run_share(&shares[0]);
    for (int k = 1; k < threads; k++) {
        if (started[k])
            pthread_join(ids[k], NULL);
        else
            run_share(&shares[k]);
    }
}
