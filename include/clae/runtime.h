/* OpenCL runtime: platforms and devices, device choice, one context and
 * in-order queue per run, the kernel program (built once, cached on disk per
 * device, driver, source and options), and OpenCL error names. */
#ifndef CLAE_RUNTIME_H
#define CLAE_RUNTIME_H

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>
#include <stdbool.h>
#include <stdio.h>

#ifndef CL_PLATFORM_NOT_FOUND_KHR
#define CL_PLATFORM_NOT_FOUND_KHR -1001 /* cl_khr_icd: the ICD loader found no platform */
#endif

#include "clae/error.h"

typedef enum { CLAE_DEV_CPU, CLAE_DEV_GPU, CLAE_DEV_IGPU, CLAE_DEV_OTHER } clae_device_kind;

typedef struct {
    int platform_index, device_index; /* "P:D" as `clae devices` prints them */
    cl_platform_id platform;
    cl_device_id device;
    clae_device_kind kind; /* igpu = GPU with host-unified memory */
    char name[256], vendor[256], driver_version[128], device_version[128];
    char cl_c_version[128], platform_name[256], platform_version[256];
    cl_uint compute_units;
    cl_ulong global_mem, local_mem, max_alloc;
    size_t max_work_group;
    bool fp16, fp64;
    int vector_floats;   /* floats in the vector registers its code uses (0: not said) */
    char cpu_target[32]; /* PoCL: the LLVM CPU it compiles for ("" otherwise or unknown) */
    /* conv_rows' vectors: 0 along rows or channels by the share of busy lanes; 1 rows, 2
     * channels ($CLAE_CONV_ROWS=row|channel, for measuring; tests set it) */
    int conv_rows_by;
} clae_device_info;

const char *clae_device_kind_name(clae_device_kind k);

/* Every device of every platform. *out is malloc'ed; free it. Zero devices is
 * not an error here; no platform at all is (the message names the package). */
int clae_list_devices(clae_device_info **out, int *count, clae_err *err);

/* spec: "cpu", "gpu", "igpu", "P:D", or a name substring (case-insensitive).
 * NULL or "" falls back to $CLAE_DEVICE, then to discrete GPU > iGPU > CPU. */
int clae_select_device(const char *spec, clae_device_info *out, clae_err *err);
/* The device of process local_rank of a job on this machine: a spec listing
 * several ("0:0,0:1") gives entry local_rank modulo their count; "gpu", "igpu"
 * and the default (when it is a GPU) the local_rank-th of that kind, modulo
 * their count; any other spec the same device for every rank. local_rank -1:
 * one process alone (clae_select_device). */
int clae_select_device_for_rank(const char *spec, int local_rank, clae_device_info *out,
                                clae_err *err);

typedef struct {
    char name[64];
    cl_kernel kernel;
} clae_kernel_entry;

typedef struct {
    char name[64];
    double seconds; /* device time from event timestamps */
    long count;
} clae_prof_entry;

#define CLAE_MAX_PROF 64

struct clae_gemm_state; /* the GEMM engine: ops (clae/gemm.h) makes it after the context */

/* What a context is opened with; the command line reads the environment
 * (CLAE_PROFILE, CLAE_CL_OPTIONS) into it once. */
typedef struct {
    const char *device;     /* see clae_select_device */
    bool profiling;         /* every command timed from its event (synchronously) */
    const char *cl_options; /* extra program build options, e.g. -cl-fast-relaxed-math */
    bool rebuild;           /* build the program from source even when cached (cache refreshed) */
    bool in_job;            /* one of several processes (clae/job.h) */
    int local_rank;         /* then: its rank on this machine (see clae_select_device_for_rank) */
} clae_ctx_opts;

typedef struct clae_ctx {
    clae_device_info dev;
    cl_context context;
    cl_command_queue queue;
    cl_program program;
    clae_kernel_entry *kernels;
    int n_kernels;
    char build_options[256];
    bool program_from_cache;   /* true when the binary came from the disk cache */
    bool program_cache_driver; /* no binary kept: the driver caches builds (PoCL) */
    double program_seconds;    /* time to obtain the built program */
    char cache_path[1024];     /* where the program binary is cached ("" if none) */
    bool profiling;            /* every command timed from its event (synchronously) */
    bool rebuild;              /* clae_ctx_opts.rebuild */
    clae_prof_entry prof[CLAE_MAX_PROF];
    int n_prof;
    struct clae_gemm_state
        *gemm;    /* which GEMM runs for which shape (clae_gemm_open), NULL before */
    clae_err err; /* last error of any op run in this context */
} clae_ctx;

/* Chooses the device (see clae_select_device), creates context and queue and
 * builds (or loads from cache) the kernel program. */
int clae_ctx_open(clae_ctx *ctx, const clae_ctx_opts *o, clae_err *err);
/* The same with default options on device_spec. */
int clae_ctx_create(clae_ctx *ctx, const char *device_spec, clae_err *err);
void clae_ctx_release(clae_ctx *ctx);

/* Builds or loads ctx's kernel program (program.c; clae_ctx_open calls it). */
int clae_build_program(clae_ctx *ctx);

/* The kernel called name, or NULL with ctx->err set. */
cl_kernel clae_kernel(clae_ctx *ctx, const char *name);

/* $CLAE_CACHE_DIR/sub, else $XDG_CACHE_HOME/clae/sub, else ~/.cache/clae/sub; "" if none. */
void clae_cache_path(char *out, size_t n, const char *sub);

/* A read-write buffer of bytes (at least 4), filled from host unless it is
 * NULL; NULL with ctx->err naming what on failure. */
cl_mem clae_buffer(clae_ctx *ctx, size_t bytes, const void *host, const char *what);

/* Waits for the queue; reports an asynchronous failure by name. */
int clae_finish(clae_ctx *ctx);

/* Profile mode: waits for ev, adds its device time under name, releases it. */
void clae_profile_event(clae_ctx *ctx, const char *name, cl_event ev);
/* Time per kernel family, largest first; steps divides the totals (0: none). */
void clae_profile_print(clae_ctx *ctx, FILE *f, long steps);
void clae_profile_reset(clae_ctx *ctx);

const char *clae_cl_error_name(cl_int code);

/* Records a failed OpenCL call in ctx->err and returns -1. */
int clae_cl_fail(clae_ctx *ctx, cl_int code, const char *what);

#define CLAE_CL_TRY(ctx, call, what)                                              \
    do {                                                                          \
        cl_int clae_rc_ = (call);                                                 \
        if (clae_rc_ != CL_SUCCESS) return clae_cl_fail((ctx), clae_rc_, (what)); \
    } while (0)

#endif
