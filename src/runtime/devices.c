/* Platform and device discovery, and the choice of one device from a spec. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clae/runtime.h"

#define NO_PLATFORM_HINT                                                        \
    "install an OpenCL driver: 'apt-get install pocl-opencl-icd' for the CPU, " \
    "or your GPU vendor's OpenCL ICD"

const char *clae_device_kind_name(clae_device_kind k)
{
    switch (k) {
    case CLAE_DEV_CPU: return "cpu";
    case CLAE_DEV_GPU: return "gpu";
    case CLAE_DEV_IGPU: return "igpu";
    default: return "other";
    }
}

static void device_string(cl_device_id d, cl_device_info what, char *buf, size_t n)
{
    if (clGetDeviceInfo(d, what, n, buf, NULL) != CL_SUCCESS) snprintf(buf, n, "?");
    buf[n - 1] = 0;
}

static bool has_extension(cl_device_id d, const char *ext)
{
    size_t n = 0;
    if (clGetDeviceInfo(d, CL_DEVICE_EXTENSIONS, 0, NULL, &n) != CL_SUCCESS || n == 0) return false;
    char *s = malloc(n + 1);
    if (!s) return false;
    bool found = false;
    if (clGetDeviceInfo(d, CL_DEVICE_EXTENSIONS, n, s, NULL) == CL_SUCCESS) {
        s[n] = 0;
        found = strstr(s, ext) != NULL;
    }
    free(s);
    return found;
}

/* LLVM's x86 CPU names by the floats in a vector register: the AVX-512
 * targets (16, in 32 registers) before the AVX/AVX2 ones (8, in 16), so that
 * "skylake-avx512" is tried before "skylake". */
static const struct {
    const char *name;
    int floats;
} cpu_targets[] = {{"skylake-avx512", 16},
                   {"cascadelake", 16},
                   {"cooperlake", 16},
                   {"cannonlake", 16},
                   {"icelake-client", 16},
                   {"icelake-server", 16},
                   {"tigerlake", 16},
                   {"rocketlake", 16},
                   {"sapphirerapids", 16},
                   {"emeraldrapids", 16},
                   {"graniterapids", 16},
                   {"diamondrapids", 16},
                   {"znver4", 16},
                   {"znver5", 16},
                   {"x86-64-v4", 16},
                   {"knl", 16},
                   {"knm", 16},
                   {"haswell", 8},
                   {"broadwell", 8},
                   {"skylake", 8},
                   {"alderlake", 8},
                   {"raptorlake", 8},
                   {"meteorlake", 8},
                   {"arrowlake", 8},
                   {"lunarlake", 8},
                   {"gracemont", 8},
                   {"znver1", 8},
                   {"znver2", 8},
                   {"znver3", 8},
                   {"bdver", 8},
                   {"btver2", 8},
                   {"sandybridge", 8},
                   {"ivybridge", 8},
                   {"x86-64-v3", 8}};

/* PoCL's CPU device names the LLVM CPU it compiles for at the end of its
 * HSTR ("... HSTR: pthread-x86_64-pc-linux-gnu-haswell"). That, not
 * CL_DEVICE_NATIVE_VECTOR_WIDTH_FLOAT, is what its code uses: PoCL reports the
 * host's width even where POCL_LLVM_CPU_NAME picks a narrower target. */
static void vector_width(cl_device_id d, clae_device_info *info)
{
    cl_uint native = 0;
    clGetDeviceInfo(d, CL_DEVICE_NATIVE_VECTOR_WIDTH_FLOAT, sizeof native, &native, NULL);
    info->vector_floats = (int)native;
    const char *by = getenv("CLAE_CONV_ROWS");
    info->conv_rows_by = !by ? 0 : strcmp(by, "row") == 0 ? 1 : strcmp(by, "channel") == 0 ? 2 : 0;
    const char *force = getenv("CLAE_VECTOR_FLOATS"); /* the kernels' choice, for measuring */
    if (force && (strcmp(force, "8") == 0 || strcmp(force, "16") == 0)) {
        info->vector_floats = atoi(force);
        return;
    }
    const char *hstr = strstr(info->device_version, "HSTR: ");
    for (size_t i = 0; hstr && i < sizeof cpu_targets / sizeof *cpu_targets; i++)
        if (strstr(hstr, cpu_targets[i].name)) {
            snprintf(info->cpu_target, sizeof info->cpu_target, "%s", cpu_targets[i].name);
            info->vector_floats = cpu_targets[i].floats;
            return;
        }
}

static void describe_device(cl_platform_id p, cl_device_id d, clae_device_info *info)
{
    memset(info, 0, sizeof *info);
    info->platform = p;
    info->device = d;
    device_string(d, CL_DEVICE_NAME, info->name, sizeof info->name);
    device_string(d, CL_DEVICE_VENDOR, info->vendor, sizeof info->vendor);
    device_string(d, CL_DRIVER_VERSION, info->driver_version, sizeof info->driver_version);
    device_string(d, CL_DEVICE_VERSION, info->device_version, sizeof info->device_version);
    device_string(d, CL_DEVICE_OPENCL_C_VERSION, info->cl_c_version, sizeof info->cl_c_version);
    if (clGetPlatformInfo(p, CL_PLATFORM_NAME, sizeof info->platform_name, info->platform_name,
                          NULL))
        snprintf(info->platform_name, sizeof info->platform_name, "?");
    if (clGetPlatformInfo(p, CL_PLATFORM_VERSION, sizeof info->platform_version,
                          info->platform_version, NULL))
        snprintf(info->platform_version, sizeof info->platform_version, "?");
    cl_device_type type = 0;
    cl_bool unified = CL_FALSE;
    clGetDeviceInfo(d, CL_DEVICE_TYPE, sizeof type, &type, NULL);
    clGetDeviceInfo(d, CL_DEVICE_HOST_UNIFIED_MEMORY, sizeof unified, &unified, NULL);
    if (type & CL_DEVICE_TYPE_CPU)
        info->kind = CLAE_DEV_CPU;
    else if (type & CL_DEVICE_TYPE_GPU)
        info->kind = unified ? CLAE_DEV_IGPU : CLAE_DEV_GPU;
    else
        info->kind = CLAE_DEV_OTHER;
    clGetDeviceInfo(d, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof info->compute_units,
                    &info->compute_units, NULL);
    clGetDeviceInfo(d, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof info->global_mem, &info->global_mem, NULL);
    clGetDeviceInfo(d, CL_DEVICE_LOCAL_MEM_SIZE, sizeof info->local_mem, &info->local_mem, NULL);
    clGetDeviceInfo(d, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof info->max_alloc, &info->max_alloc,
                    NULL);
    clGetDeviceInfo(d, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof info->max_work_group,
                    &info->max_work_group, NULL);
    vector_width(d, info);
    info->fp16 = has_extension(d, "cl_khr_fp16");
    info->fp64 = has_extension(d, "cl_khr_fp64");
}

int clae_list_devices(clae_device_info **out, int *count, clae_err *err)
{
    *out = NULL;
    *count = 0;
    cl_uint np = 0;
    cl_int rc = clGetPlatformIDs(0, NULL, &np);
    if (rc == CL_PLATFORM_NOT_FOUND_KHR || (rc == CL_SUCCESS && np == 0))
        return clae_fail(err, "no OpenCL platform found: %s", NO_PLATFORM_HINT);
    if (rc != CL_SUCCESS)
        return clae_fail(err, "clGetPlatformIDs failed: %s (%d)", clae_cl_error_name(rc), (int)rc);
    cl_platform_id *platforms = calloc(np, sizeof *platforms);
    if (!platforms) return clae_fail(err, "out of host memory listing platforms");
    clGetPlatformIDs(np, platforms, NULL);
    clae_device_info *list = NULL;
    int n = 0;
    for (cl_uint p = 0; p < np; p++) {
        cl_uint nd = 0;
        if (clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, 0, NULL, &nd) != CL_SUCCESS || nd == 0)
            continue;
        cl_device_id *ids = calloc(nd, sizeof *ids);
        clae_device_info *grown = realloc(list, (size_t)(n + (int)nd) * sizeof *list);
        if (!ids || !grown) {
            free(ids);
            free(grown ? grown : list);
            free(platforms);
            return clae_fail(err, "out of host memory listing devices");
        }
        list = grown;
        clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, nd, ids, NULL);
        for (cl_uint d = 0; d < nd; d++, n++) {
            describe_device(platforms[p], ids[d], &list[n]);
            list[n].platform_index = (int)p;
            list[n].device_index = (int)d;
        }
        free(ids);
    }
    free(platforms);
    *out = list;
    *count = n;
    return 0;
}

static bool contains_nocase(const char *hay, const char *needle)
{
    size_t nl = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < nl && hay[i] &&
               tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == nl) return true;
    }
    return nl == 0;
}

/* The nth (modulo their count) device of kind in list, or -1 when there is none. */
static int nth_of_kind(const clae_device_info *list, int n, clae_device_kind kind, int nth)
{
    int count = 0;
    for (int i = 0; i < n; i++) count += list[i].kind == kind;
    if (!count) return -1;
    nth %= count;
    for (int i = 0; i < n; i++)
        if (list[i].kind == kind && nth-- == 0) return i;
    return -1;
}

/* Index into list of the device matching spec, or -1; nth: which of several GPUs. */
static int match_spec(const clae_device_info *list, int n, const char *spec, int nth)
{
    int p, d;
    char tail;
    if (sscanf(spec, "%d:%d%c", &p, &d, &tail) == 2) {
        for (int i = 0; i < n; i++)
            if (list[i].platform_index == p && list[i].device_index == d) return i;
        return -1;
    }
    static const struct {
        const char *word;
        clae_device_kind kind;
    } kinds[] = {{"cpu", CLAE_DEV_CPU}, {"gpu", CLAE_DEV_GPU}, {"igpu", CLAE_DEV_IGPU}};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        if (strcmp(spec, kinds[k].word) != 0) continue;
        if (kinds[k].kind == CLAE_DEV_CPU) nth = 0; /* one CPU device serves every rank */
        int i = nth_of_kind(list, n, kinds[k].kind, nth);
        /* "gpu" accepts an integrated GPU when no discrete one exists */
        if (i < 0 && kinds[k].kind == CLAE_DEV_GPU) i = nth_of_kind(list, n, CLAE_DEV_IGPU, nth);
        return i;
    }
    for (int i = 0; i < n; i++)
        if (contains_nocase(list[i].name, spec) || contains_nocase(list[i].platform_name, spec))
            return i;
    return -1;
}

/* The first kind present of GPU, iGPU, CPU, other; among GPUs the nth (a
 * rank's: nth >= 0); among other devices of that kind, or every kind for one
 * process (nth < 0), the one with the most compute units (PoCL lists its
 * one-thread "basic" device before "pthread"), the first listed on a tie. */
static int default_choice(const clae_device_info *list, int n, int nth)
{
    static const clae_device_kind order[] = {CLAE_DEV_GPU, CLAE_DEV_IGPU, CLAE_DEV_CPU,
                                             CLAE_DEV_OTHER};
    for (size_t k = 0; k < 4; k++) {
        if (nth >= 0 && (order[k] == CLAE_DEV_GPU || order[k] == CLAE_DEV_IGPU)) {
            int i = nth_of_kind(list, n, order[k], nth);
            if (i >= 0) return i;
            continue;
        }
        int best = -1;
        for (int i = 0; i < n; i++)
            if (list[i].kind == order[k] &&
                (best < 0 || list[i].compute_units > list[best].compute_units))
                best = i;
        if (best >= 0) return best;
    }
    return -1;
}

/* Entry local_rank (modulo their count) of a comma-separated spec, into one. */
static const char *rank_entry(const char *spec, int local_rank, char *one, size_t n)
{
    if (!spec || !strchr(spec, ',')) return spec;
    int count = 1;
    for (const char *p = spec; *p; p++) count += *p == ',';
    const char *p = spec;
    for (int k = local_rank % count; k > 0; k--) p = strchr(p, ',') + 1;
    snprintf(one, n, "%.*s", (int)strcspn(p, ","), p);
    return one;
}

int clae_select_device(const char *spec, clae_device_info *out, clae_err *err)
{
    return clae_select_device_for_rank(spec, -1, out, err);
}

int clae_select_device_for_rank(const char *spec, int local_rank, clae_device_info *out,
                                clae_err *err)
{
    const char *source = "--device";
    if (!spec || !*spec) {
        spec = getenv("CLAE_DEVICE");
        source = "CLAE_DEVICE";
    }
    clae_device_info *list;
    int n;
    if (clae_list_devices(&list, &n, err)) return -1;
    if (n == 0) {
        free(list);
        return clae_fail(err, "OpenCL platforms exist but expose no device: %s", NO_PLATFORM_HINT);
    }
    char one[256];
    spec = rank_entry(spec, local_rank < 0 ? 0 : local_rank, one, sizeof one);
    int i = (spec && *spec) ? match_spec(list, n, spec, local_rank < 0 ? 0 : local_rank)
                            : default_choice(list, n, local_rank);
    if (i < 0) {
        char names[768] = "";
        for (int k = 0; k < n; k++) {
            size_t len = strlen(names);
            snprintf(names + len, sizeof names - len, "%s%d:%d %s (%s)", k ? ", " : "",
                     list[k].platform_index, list[k].device_index, list[k].name,
                     clae_device_kind_name(list[k].kind));
        }
        clae_fail(err,
                  "%s=%s matches no device; expected cpu, gpu, igpu, P:D or a name substring; "
                  "devices: %s",
                  source, spec, names);
        free(list);
        return -1;
    }
    *out = list[i];
    free(list);
    return 0;
}
