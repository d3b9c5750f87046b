/* clae bench allreduce, under mpirun: the sum of a float buffer over the
 * ranks, as data-parallel training does it with its gradients, timed at sizes
 * from 4 KiB to 64 MiB (nccl-tests' algbw = bytes / time and busbw = algbw *
 * 2 (N - 1) / N), then what a ring allreduce of each size would take on N of
 * 8 to 64 GPUs over stated links: t = 2 (N - 1) / N * bytes / B + 2 (N - 1) *
 * alpha. The times are rank 0's, each the best of its repeats (all ranks
 * start each repeat together). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "clae/clock.h"
#include "clae/job.h"

#define MIN_FLOATS 1024
#define MAX_FLOATS (16u << 20)

/* The best seconds of an allreduce of n floats over the job. */
static int time_allreduce(const clae_job *job, float *buf, size_t n, double *best, clae_err *err)
{
    *best = 1e30;
    double spent = 0;
    for (int rep = 0; rep < 100 && (rep < 5 || spent < 0.5); rep++) {
        for (size_t i = 0; i < n; i++) buf[i] = 1.0f;
        if (clae_job_barrier(job, err)) return -1;
        double t0 = clae_now();
        if (clae_job_allreduce_sum(job, buf, n, err)) return -1;
        double dt = clae_now() - t0;
        if (buf[n - 1] != (float)job->size)
            return clae_fail(err, "the allreduce of %zu floats summed to %g, not %d", n, buf[n - 1],
                             job->size);
        spent += dt;
        if (dt < *best) *best = dt;
        /* the same decision on every rank: rank 0's time */
        double agree = job->rank == 0 ? spent : 0;
        if (clae_job_allreduce_sum_f64(job, &agree, 1, err)) return -1;
        spent = agree;
    }
    return 0;
}

/* The ring model on the links the README states (GB/s, alpha in microseconds). */
static void print_projection(double bytes)
{
    static const struct {
        const char *name;
        double gbs, alpha_us;
    } links[] = {{"100 Gb/s InfiniBand or RoCE", 12.5, 5},
                 {"PCIe 4.0 x16", 25, 5},
                 {"NVLink 4 (H100/H200)", 450, 3}};
    static const int gpus[] = {8, 16, 32, 64};
    printf("ring allreduce of %.1f MiB (model: 2(N-1)/N bytes/B + 2(N-1) alpha), ms:\n",
           bytes / 1048576.0);
    for (size_t l = 0; l < sizeof links / sizeof links[0]; l++) {
        printf("  %-28s", links[l].name);
        for (size_t g = 0; g < sizeof gpus / sizeof gpus[0]; g++) {
            double n = gpus[g];
            double t = 2 * (n - 1) / n * bytes / (links[l].gbs * 1e9) +
                       2 * (n - 1) * links[l].alpha_us * 1e-6;
            printf("  %2d: %7.3f", gpus[g], t * 1e3);
        }
        printf("\n");
    }
}

int bench_allreduce(const clae_job *job, double project_bytes, clae_err *err)
{
    if (job->size < 2)
        return clae_fail(err, "bench allreduce measures a job of several ranks: run it as "
                              "mpirun -np 2 clae bench allreduce");
    float *buf = malloc(MAX_FLOATS * sizeof *buf);
    if (!buf) return clae_fail(err, "out of host memory");
    if (job->rank == 0)
        printf("allreduce (sum of floats) over %d ranks; best of repeats\n%12s %12s %12s %12s\n",
               job->size, "bytes", "time us", "algbw GB/s", "busbw GB/s");
    int rc = 0;
    for (size_t n = MIN_FLOATS; n <= MAX_FLOATS && rc == 0; n *= 4) {
        double t;
        rc = time_allreduce(job, buf, n, &t, err);
        double bytes = (double)n * sizeof(float), alg = bytes / t / 1e9;
        if (rc == 0 && job->rank == 0)
            printf("%12.0f %12.1f %12.2f %12.2f\n", bytes, t * 1e6, alg,
                   alg * 2 * (job->size - 1) / job->size);
    }
    free(buf);
    if (rc == 0 && job->rank == 0 && project_bytes > 0) print_projection(project_bytes);
    return rc;
}
