/* OpenCL fault injection for tests (LD_PRELOAD): the calls below are counted,
 * over all of them and the process (CLBlast's included); the one numbered
 * CLAE_FAULT_AT fails with the error a driver gives when it runs out (or the
 * build fails) instead of reaching the driver. CLAE_FAULT_COUNT=FILE writes the
 * number of calls made at exit, so a test knows the range to try. A test
 * library: this is the one place that keeps process-wide state by design. */
#define _GNU_SOURCE
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

static long calls, fail_at = -2;

static void write_count(void)
{
    const char *path = getenv("CLAE_FAULT_COUNT");
    FILE *f = path ? fopen(path, "w") : NULL;
    if (f) fprintf(f, "%ld\n", calls), fclose(f);
}

/* true when this call is the one to fail */
static int inject(void)
{
    if (fail_at == -2) {
        const char *at = getenv("CLAE_FAULT_AT");
        fail_at = at ? atol(at) : -1;
        atexit(write_count);
    }
    return ++calls == fail_at;
}

#define REAL(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))

cl_mem clCreateBuffer(cl_context c, cl_mem_flags f, size_t n, void *host, cl_int *rc)
{
    if (inject()) {
        if (rc) *rc = CL_MEM_OBJECT_ALLOCATION_FAILURE;
        return NULL;
    }
    return REAL(clCreateBuffer)(c, f, n, host, rc);
}

cl_int clBuildProgram(cl_program p, cl_uint nd, const cl_device_id *d, const char *opt,
                      void(CL_CALLBACK *cb)(cl_program, void *), void *user)
{
    return inject() ? CL_BUILD_PROGRAM_FAILURE : REAL(clBuildProgram)(p, nd, d, opt, cb, user);
}

cl_int clCreateKernelsInProgram(cl_program p, cl_uint n, cl_kernel *k, cl_uint *got)
{
    return inject() ? CL_OUT_OF_HOST_MEMORY : REAL(clCreateKernelsInProgram)(p, n, k, got);
}

cl_int clEnqueueNDRangeKernel(cl_command_queue q, cl_kernel k, cl_uint dims, const size_t *off,
                              const size_t *global, const size_t *local, cl_uint nw,
                              const cl_event *w, cl_event *e)
{
    return inject() ? CL_OUT_OF_RESOURCES
                    : REAL(clEnqueueNDRangeKernel)(q, k, dims, off, global, local, nw, w, e);
}

cl_int clEnqueueWriteBuffer(cl_command_queue q, cl_mem m, cl_bool block, size_t off, size_t n,
                            const void *p, cl_uint nw, const cl_event *w, cl_event *e)
{
    return inject() ? CL_OUT_OF_RESOURCES
                    : REAL(clEnqueueWriteBuffer)(q, m, block, off, n, p, nw, w, e);
}

cl_int clEnqueueReadBuffer(cl_command_queue q, cl_mem m, cl_bool block, size_t off, size_t n,
                           void *p, cl_uint nw, const cl_event *w, cl_event *e)
{
    return inject() ? CL_OUT_OF_RESOURCES
                    : REAL(clEnqueueReadBuffer)(q, m, block, off, n, p, nw, w, e);
}

cl_int clEnqueueFillBuffer(cl_command_queue q, cl_mem m, const void *pat, size_t ps, size_t off,
                           size_t n, cl_uint nw, const cl_event *w, cl_event *e)
{
    return inject() ? CL_OUT_OF_RESOURCES
                    : REAL(clEnqueueFillBuffer)(q, m, pat, ps, off, n, nw, w, e);
}

cl_int clEnqueueCopyBuffer(cl_command_queue q, cl_mem a, cl_mem b, size_t oa, size_t ob, size_t n,
                           cl_uint nw, const cl_event *w, cl_event *e)
{
    return inject() ? CL_OUT_OF_RESOURCES : REAL(clEnqueueCopyBuffer)(q, a, b, oa, ob, n, nw, w, e);
}

cl_int clFinish(cl_command_queue q) { return inject() ? CL_OUT_OF_RESOURCES : REAL(clFinish)(q); }
