/* clae devices: every platform and device, with what matters for training. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clae/config.h"
#include "clae/ops.h"
#include "clae/runtime.h"
#include "clae/job.h"
#include "cli.h"

static void print_device(const clae_device_info *d, bool chosen)
{
    printf("%c %d:%d  %-4s  %s\n", chosen ? '*' : ' ', d->platform_index, d->device_index,
           clae_device_kind_name(d->kind), d->name);
    printf("        platform %s (%s)\n", d->platform_name, d->platform_version);
    printf("        vendor %s, driver %s, %s, %s\n", d->vendor, d->driver_version,
           d->device_version, d->cl_c_version);
    printf("        %u compute units, global %.0f MiB, local %.0f KiB, max allocation %.0f MiB, "
           "max work-group %zu\n",
           d->compute_units, d->global_mem / 1048576.0, d->local_mem / 1024.0,
           d->max_alloc / 1048576.0, d->max_work_group);
    printf("        fp16 %s, fp64 %s, vectors of %d floats%s%s%s\n", d->fp16 ? "yes" : "no",
           d->fp64 ? "yes" : "no", d->vector_floats, d->cpu_target[0] ? " (PoCL target " : "",
           d->cpu_target, d->cpu_target[0] ? ")" : "");
}

/* --peak: a context on the device, its kernels, and the FMA chains (a second or so). */
static void print_peak(const clae_device_info *d)
{
    char spec[32];
    snprintf(spec, sizeof spec, "%d:%d", d->platform_index, d->device_index);
    clae_ctx ctx;
    clae_err err;
    clae_fma_peak_result r;
    if (clae_ctx_create(&ctx, spec, &err)) {
        printf("        FMA peak: not measured: %s\n", err.msg);
        return;
    }
    if (clae_fma_peak(&ctx, &r))
        printf("        FMA peak: not measured: %s\n", ctx.err.msg);
    else
        printf("        FMA peak %.1f GFLOP/s (float%d; float %.1f, float4 %.1f, float8 %.1f, "
               "float16 %.1f)\n",
               r.gflops, r.width, r.by_width[0], r.by_width[1], r.by_width[2], r.by_width[3]);
    clae_ctx_release(&ctx);
}

int cmd_devices(int argc, char **argv)
{
    clae_cli_opts o;
    clae_err err;
    if (clae_cli_parse(argc, argv, 2, &o, &err)) return clae_cli_error(&err);
    if (o.help) {
        printf("usage: clae devices [--device SPEC] [--peak]\n  lists every OpenCL device; * marks "
               "the one SPEC (or $CLAE_DEVICE, or the default) chooses\n"
               "  --peak  also measures each device's FMA peak (GFLOP/s of fused multiply-adds "
               "on float,\n          float4, float8 and float16: the yardstick clae bench "
               "uses)\n");
        return 0;
    }
    clae_device_info *list, chosen;
    int n;
    if (clae_list_devices(&list, &n, &err)) return clae_cli_error(&err);
    if (n == 0) {
        free(list);
        fprintf(stderr,
                "clae: OpenCL platforms exist but expose no device: install a driver "
                "('apt-get install pocl-opencl-icd' for the CPU, or your GPU vendor's ICD)\n");
        return 1;
    }
    bool have_choice = clae_select_device(o.device, &chosen, &err) == 0;
    for (int i = 0; i < n; i++) {
        print_device(&list[i], have_choice && list[i].device == chosen.device);
        if (o.peak) print_peak(&list[i]);
    }
    free(list);
    char mpi[160];
    clae_job_library(mpi, sizeof mpi);
    printf("MPI: %s\n", mpi);
    if (!have_choice) return clae_cli_error(&err);
    return 0;
}

int cmd_keys(int argc, char **argv)
{
    (void)argc, (void)argv;
    clae_config_print_keys(stdout);
    return 0;
}
