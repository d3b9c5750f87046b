/* Several processes as one job: MPI when clae was built with it and mpirun
 * (or another MPI launcher) started the process, one process otherwise. The
 * collectives work on host memory, so nothing here knows OpenCL; every call
 * is a no-op (or a copy) in a job of one. A failed call fills err and
 * returns -1: the caller stops the job with clae_job_abort, since the other
 * ranks would wait for it forever. */
#ifndef CLAE_JOB_H
#define CLAE_JOB_H

#include <stdbool.h>
#include <stddef.h>

#include "clae/error.h"

typedef struct {
    int rank, size;             /* this process, of size (0 of 1 without MPI) */
    int local_rank, local_size; /* on this machine (Open MPI's OMPI_COMM_WORLD_LOCAL_*) */
    bool mpi;                   /* MPI_Init ran: clae_job_close must finalise */
    long spin;                  /* quick tests of a request before waits nap (see job.c) */
} clae_job;

/* An outstanding non-blocking allreduce. */
typedef struct {
    _Alignas(8) unsigned char raw[16]; /* the MPI_Request */
    bool active;
} clae_job_req;

/* Whether this build has MPI (meson -Dmpi). */
bool clae_job_built_with_mpi(void);
/* One line for clae devices: the MPI library this build has ("Open MPI v4.1.4, ...;
 * mpirun -np N clae train|sweep"), or that it has none and how to get it. */
void clae_job_library(char *out, size_t n);
/* Whether an MPI launcher started this process (its environment says so) and
 * CLAE_NO_MPI is unset: a child clae runs alone though it inherits that
 * environment. */
bool clae_job_launched(void);
/* Joins the job: MPI_Init when launched under MPI in an MPI build; a job of
 * one otherwise. Launched without MPI in the build is an error (N copies
 * would each train alone and write the same run directory). */
int clae_job_open(clae_job *d, clae_err *err);
void clae_job_close(clae_job *d);
/* Ends every process of the job with code (MPI_Abort); exit(code) alone. */
_Noreturn void clae_job_abort(const clae_job *d, int code);

/* bytes of buf from rank root to every rank. */
int clae_job_bcast(const clae_job *d, void *buf, size_t bytes, int root, clae_err *err);
/* n floats summed over the ranks, in place, the same result on every rank. */
int clae_job_allreduce_sum(const clae_job *d, float *buf, size_t n, clae_err *err);
/* n doubles likewise (counts, sums the host keeps). */
int clae_job_allreduce_sum_f64(const clae_job *d, double *buf, size_t n, clae_err *err);
/* Each rank's n floats of mine into all (size * n floats, rank order). */
int clae_job_allgather(const clae_job *d, const float *mine, float *all, size_t n, clae_err *err);
/* Starts an in-place sum of n floats; buf must stay alive until the wait. */
int clae_job_iallreduce_sum(const clae_job *d, float *buf, size_t n, clae_job_req *r,
                            clae_err *err);
/* Lets outstanding requests progress; *done: r has finished (r may be NULL). */
int clae_job_test(const clae_job *d, clae_job_req *r, bool *done, clae_err *err);
int clae_job_wait(const clae_job *d, clae_job_req *r, clae_err *err);
int clae_job_barrier(const clae_job *d, clae_err *err);

/* Point to point (the sweep's messages): bytes to rank to with tag. */
int clae_job_send(const clae_job *d, int to, int tag, const void *buf, size_t bytes, clae_err *err);
/* A message waiting from any rank, received into buf (at most cap bytes):
 * *got is false when none waits; *from, *tag and *bytes describe it. */
int clae_job_poll(const clae_job *d, void *buf, size_t cap, bool *got, int *from, int *tag,
                  size_t *bytes, clae_err *err);

#endif
