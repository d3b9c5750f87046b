/* clae_parallel_for: static contiguous shares on pthreads. */
#include "clae/parallel.h"

#include <pthread.h>
#include <unistd.h>

#define MAX_THREADS 64

typedef struct {
    clae_share_fn fn;
    void *arg;
    int share, n_shares;
} share;

static void *run_share(void *p)
{
    share *s = p;
    s->fn(s->arg, s->share, s->n_shares);
    return NULL;
}

int clae_host_threads(void)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    return cores < 1 ? 1 : cores > MAX_THREADS ? MAX_THREADS : (int)cores;
}

void clae_parallel_shares(int n_shares, clae_share_fn fn, void *arg)
{
    if (n_shares < 1) n_shares = 1;
    if (n_shares > MAX_THREADS) n_shares = MAX_THREADS;
    share shares[MAX_THREADS];
    pthread_t ids[MAX_THREADS];
    int started[MAX_THREADS] = {0};
    for (int k = 0; k < n_shares; k++) shares[k] = (share){fn, arg, k, n_shares};
    for (int k = 1; k < n_shares; k++)
        started[k] = pthread_create(&ids[k], NULL, run_share, &shares[k]) == 0;
    run_share(&shares[0]);
    for (int k = 1; k < n_shares; k++) {
        if (started[k])
            pthread_join(ids[k], NULL);
        else
            run_share(&shares[k]);
    }
}

typedef struct {
    clae_range_fn fn;
    void *arg;
    size_t n;
} range_job;

/* share k of n takes items [n * k / shares, n * (k + 1) / shares) */
static void range_share(void *arg, int k, int shares)
{
    const range_job *j = arg;
    size_t begin = j->n * (size_t)k / (size_t)shares, end = j->n * (size_t)(k + 1) / (size_t)shares;
    if (begin < end) j->fn(j->arg, begin, end);
}

void clae_parallel_for(size_t n, int threads, clae_range_fn fn, void *arg)
{
    if (threads < 1) threads = 1;
    if ((size_t)threads > n) threads = n ? (int)n : 1;
    range_job job = {fn, arg, n};
    clae_parallel_shares(threads, range_share, &job);
}
