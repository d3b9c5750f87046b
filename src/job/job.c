/* The job's processes: Open MPI (or any MPI) when built with it, else a job
 * of one. Only MPI_COMM_WORLD is used; errors return (MPI_ERRORS_RETURN) so
 * that each becomes one line, and the caller aborts the job. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clae/job.h"

#ifdef CLAE_HAVE_MPI
#include <mpi.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
_Static_assert(sizeof(MPI_Request) <= sizeof(((clae_job_req *)0)->raw),
               "clae_job_req holds an MPI_Request");
#endif

bool clae_job_built_with_mpi(void)
{
#ifdef CLAE_HAVE_MPI
    return true;
#else
    return false;
#endif
}

void clae_job_library(char *out, size_t n)
{
#ifdef CLAE_HAVE_MPI
    char version[MPI_MAX_LIBRARY_VERSION_STRING] = "";
    int len = 0;
    MPI_Get_library_version(version, &len); /* allowed before MPI_Init */
    size_t cut = strcspn(version, ",\n");
    snprintf(out, n, "built in (%.*s): mpirun -np N clae train CONFIG, or clae sweep", (int)cut,
             version);
#else
    snprintf(out, n, "not in this build (install libopenmpi-dev and rebuild: meson -Dmpi=enabled)");
#endif
}

static int env_int(const char *name, int fallback)
{
    const char *v = getenv(name);
    return v && *v ? atoi(v) : fallback;
}

bool clae_job_launched(void)
{
    const char *no = getenv("CLAE_NO_MPI");
    if (no && *no && strcmp(no, "0") != 0) return false;
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_RANK");
}

static void alone(clae_job *d)
{
    memset(d, 0, sizeof *d);
    d->size = d->local_size = 1;
    d->spin = 100000;
}

#ifdef CLAE_HAVE_MPI
static int mpi_fail(int rc, const char *what, clae_err *err)
{
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(rc, text, &len) != MPI_SUCCESS) snprintf(text, sizeof text, "code %d", rc);
    return clae_fail(err, "%s failed: %s", what, text);
}
#define MPI_TRY(call, what)                                      \
    do {                                                         \
        int rc_ = (call);                                        \
        if (rc_ != MPI_SUCCESS) return mpi_fail(rc_, what, err); \
    } while (0)
/* MPI counts are int: larger buffers go in pieces */
#define MPI_PIECE ((size_t)1 << 30)

/* Waits for req, polling: a blocking MPI call spins at full speed, which on a
 * machine whose cores also run the device (PoCL) or another rank takes their
 * time. d->spin quick tests first (many by default: a GPU's host has cores to
 * spare and an allreduce's latency counts; a few when the device is the CPU),
 * then naps from 5 us growing to a millisecond (rank 0 writing a checkpoint or
 * evaluating while the others wait). */
static int idle_wait(const clae_job *d, MPI_Request *req, const char *what, clae_err *err)
{
    long nap_ns = 5000;
    for (long polls = 0;; polls++) {
        int flag = 0;
        MPI_TRY(MPI_Test(req, &flag, MPI_STATUS_IGNORE), what);
        if (flag) return 0;
        if (polls < d->spin) continue;
        nanosleep(&(struct timespec){0, nap_ns}, NULL);
        if (nap_ns < 1000000) nap_ns += nap_ns / 4;
    }
}
#endif

int clae_job_open(clae_job *d, clae_err *err)
{
    alone(d);
    if (!clae_job_launched()) return 0;
#ifdef CLAE_HAVE_MPI
    int provided;
    MPI_TRY(MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
    d->mpi = true;
#ifdef __linux__
    prctl(PR_SET_TIMERSLACK, 1000UL); /* naps of microseconds, not the default 50 us more */
#endif
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_TRY(MPI_Comm_rank(MPI_COMM_WORLD, &d->rank), "MPI_Comm_rank");
    MPI_TRY(MPI_Comm_size(MPI_COMM_WORLD, &d->size), "MPI_Comm_size");
    d->local_rank = env_int("OMPI_COMM_WORLD_LOCAL_RANK", env_int("MPI_LOCALRANKID", d->rank));
    d->local_size = env_int("OMPI_COMM_WORLD_LOCAL_SIZE", env_int("MPI_LOCALNRANKS", d->size));
    return 0;
#else
    (void)env_int;
    return clae_fail(err, "this process was started by an MPI launcher (mpirun) but this clae is "
                          "built without MPI: install libopenmpi-dev and rebuild (meson "
                          "-Dmpi=enabled), or run it alone");
#endif
}

void clae_job_close(clae_job *d)
{
#ifdef CLAE_HAVE_MPI
    if (d->mpi) MPI_Finalize();
#endif
    d->mpi = false;
}

_Noreturn void clae_job_abort(const clae_job *d, int code)
{
    fflush(NULL);
#ifdef CLAE_HAVE_MPI
    if (d->mpi && d->size > 1) MPI_Abort(MPI_COMM_WORLD, code);
#endif
    (void)d;
    exit(code);
}

int clae_job_bcast(const clae_job *d, void *buf, size_t bytes, int root, clae_err *err)
{
    if (d->size <= 1) return 0;
#ifdef CLAE_HAVE_MPI
    for (size_t at = 0; at < bytes; at += MPI_PIECE) {
        size_t n = bytes - at < MPI_PIECE ? bytes - at : MPI_PIECE;
        MPI_Request req;
        MPI_TRY(MPI_Ibcast((char *)buf + at, (int)n, MPI_BYTE, root, MPI_COMM_WORLD, &req),
                "MPI_Ibcast");
        if (idle_wait(d, &req, "MPI_Ibcast", err)) return -1;
    }
#endif
    (void)buf, (void)bytes, (void)root, (void)err;
    return 0;
}

int clae_job_allreduce_sum(const clae_job *d, float *buf, size_t n, clae_err *err)
{
    if (d->size <= 1) return 0;
#ifdef CLAE_HAVE_MPI
    for (size_t at = 0; at < n; at += MPI_PIECE) {
        size_t k = n - at < MPI_PIECE ? n - at : MPI_PIECE;
        MPI_Request req;
        MPI_TRY(MPI_Iallreduce(MPI_IN_PLACE, buf + at, (int)k, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD,
                               &req),
                "MPI_Iallreduce");
        if (idle_wait(d, &req, "MPI_Iallreduce", err)) return -1;
    }
#endif
    (void)buf, (void)n, (void)err;
    return 0;
}

int clae_job_allreduce_sum_f64(const clae_job *d, double *buf, size_t n, clae_err *err)
{
    if (d->size <= 1) return 0;
#ifdef CLAE_HAVE_MPI
    MPI_TRY(MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD),
            "MPI_Allreduce");
#endif
    (void)buf, (void)n, (void)err;
    return 0;
}

int clae_job_allgather(const clae_job *d, const float *mine, float *all, size_t n, clae_err *err)
{
    if (d->size <= 1) {
        memmove(all, mine, n * sizeof *all);
        return 0;
    }
#ifdef CLAE_HAVE_MPI
    MPI_TRY(MPI_Allgather(mine, (int)n, MPI_FLOAT, all, (int)n, MPI_FLOAT, MPI_COMM_WORLD),
            "MPI_Allgather");
#endif
    (void)err;
    return 0;
}

int clae_job_iallreduce_sum(const clae_job *d, float *buf, size_t n, clae_job_req *r, clae_err *err)
{
    r->active = false;
    if (d->size <= 1) return 0;
#ifdef CLAE_HAVE_MPI
    if (n > MPI_PIECE) return clae_job_allreduce_sum(d, buf, n, err);
    MPI_Request req;
    MPI_TRY(MPI_Iallreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &req),
            "MPI_Iallreduce");
    memcpy(r->raw, &req, sizeof req);
    r->active = true;
#endif
    (void)buf, (void)n, (void)err;
    return 0;
}

int clae_job_test(const clae_job *d, clae_job_req *r, bool *done, clae_err *err)
{
    *done = true;
    if (!r || !r->active) return 0;
#ifdef CLAE_HAVE_MPI
    MPI_Request req;
    memcpy(&req, r->raw, sizeof req);
    int flag = 0;
    MPI_TRY(MPI_Test(&req, &flag, MPI_STATUS_IGNORE), "MPI_Test");
    memcpy(r->raw, &req, sizeof req);
    *done = flag != 0;
    r->active = !flag;
#endif
    (void)d, (void)err;
    return 0;
}

int clae_job_wait(const clae_job *d, clae_job_req *r, clae_err *err)
{
    if (!r->active) return 0;
#ifdef CLAE_HAVE_MPI
    MPI_Request req;
    memcpy(&req, r->raw, sizeof req);
    r->active = false;
    if (idle_wait(d, &req, "MPI_Iallreduce", err)) return -1;
#endif
    (void)d, (void)err;
    return 0;
}

int clae_job_barrier(const clae_job *d, clae_err *err)
{
    if (d->size <= 1) return 0;
#ifdef CLAE_HAVE_MPI
    MPI_Request req;
    MPI_TRY(MPI_Ibarrier(MPI_COMM_WORLD, &req), "MPI_Ibarrier");
    if (idle_wait(d, &req, "MPI_Ibarrier", err)) return -1;
#endif
    (void)err;
    return 0;
}

int clae_job_send(const clae_job *d, int to, int tag, const void *buf, size_t bytes, clae_err *err)
{
    if (d->size <= 1) return clae_fail(err, "no rank %d to send to in a job of one", to);
#ifdef CLAE_HAVE_MPI
    MPI_TRY(MPI_Send(buf, (int)bytes, MPI_BYTE, to, tag, MPI_COMM_WORLD), "MPI_Send");
#endif
    (void)buf, (void)bytes, (void)tag;
    return 0;
}

int clae_job_poll(const clae_job *d, void *buf, size_t cap, bool *got, int *from, int *tag,
                  size_t *bytes, clae_err *err)
{
    *got = false;
    if (d->size <= 1) return 0;
#ifdef CLAE_HAVE_MPI
    int flag = 0, count = 0;
    MPI_Status st;
    MPI_TRY(MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st), "MPI_Iprobe");
    if (!flag) return 0;
    MPI_Get_count(&st, MPI_BYTE, &count);
    if ((size_t)count > cap)
        return clae_fail(err, "a message of %d bytes from rank %d is over the %zu expected", count,
                         st.MPI_SOURCE, cap);
    MPI_TRY(MPI_Recv(buf, count, MPI_BYTE, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD,
                     MPI_STATUS_IGNORE),
            "MPI_Recv");
    *got = true;
    *from = st.MPI_SOURCE;
    *tag = st.MPI_TAG;
    *bytes = (size_t)count;
#endif
    (void)buf, (void)cap, (void)from, (void)tag, (void)bytes, (void)err;
    return 0;
}
