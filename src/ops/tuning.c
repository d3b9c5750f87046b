/* clae tune's results on disk: one small INI file per device and driver in the
 * user's cache (tuning/NAME-HASH.ini), read when a GEMM engine opens:
 *
 *   [device]           name and driver it was measured on (checked on load)
 *   [gemm]             fallback = ENGINE, and "NN 64x784x512 = ENGINE" per shape
 *   [clblast.KERNEL]   CLBlast parameters handed to CLBlastOverrideParameters
 *
 * ENGINE is "clblast" or "own:MRxNVxW/GROUP" (see clae_gemm_parse_choice). */
#include <clblast_c.h>
#include <ini.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clae/afile.h"
#include "clae/ops.h"

static uint64_t fnv1a(uint64_t h, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        h = (h ^ *p) * 0x100000001B3ull;
    return (h ^ 0xFF) * 0x100000001B3ull; /* a separator between fields */
}

void clae_tuning_path(const clae_device_info *d, char *out, size_t n)
{
    char dir[900];
    clae_cache_path(dir, sizeof dir, "tuning");
    if (!dir[0]) {
        out[0] = 0;
        return;
    }
    uint64_t h = 0xCBF29CE484222325ull;
    const char *parts[] = {d->name, d->vendor, d->driver_version, d->platform_name,
                           d->platform_version};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) h = fnv1a(h, parts[i]);
    char name[40];
    size_t k = 0;
    for (const char *p = d->name; *p && k < 24; p++) /* a readable prefix: letters, digits, '-' */
        name[k++] = ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z') || (*p >= '0' && *p <= '9') ? *p
                                                                                           : '-';
    name[k] = 0;
    snprintf(out, n, "%s/%s-%016llx.ini", dir, name, (unsigned long long)h);
}

int clae_clblast_apply(clae_ctx *ctx, const clae_clblast_params *p)
{
    const char *names[CLAE_MAX_CLBLAST_PARAMS];
    for (int i = 0; i < p->n; i++) names[i] = p->names[i];
    CLBlastStatusCode s = CLBlastOverrideParameters(
        ctx->dev.device, p->kernel, CLBlastPrecisionSingle, (size_t)p->n, names, p->values);
    if (s != CLBlastSuccess)
        return clae_fail(&ctx->err, "CLBlastOverrideParameters(%s) failed: %s (%d)", p->kernel,
                         clae_clblast_status_name(s), (int)s);
    return 0;
}

typedef struct {
    clae_ctx *ctx;
    clae_gemm_state loaded;
    char device[256], driver[128];
    char problem[300]; /* the first thing wrong with the file */
} load_state;

static int on_entry(void *user, const char *section, const char *name, const char *value)
{
    load_state *ls = user;
    clae_gemm_state *g = &ls->loaded;
    if (ls->problem[0]) return 1;
    if (strcmp(section, "device") == 0) {
        if (strcmp(name, "name") == 0)
            snprintf(ls->device, sizeof ls->device, "%s", value);
        else if (strcmp(name, "driver") == 0)
            snprintf(ls->driver, sizeof ls->driver, "%s", value);
    } else if (strcmp(section, "gemm") == 0) {
        clae_gemm_choice ch;
        if (clae_gemm_parse_choice(value, &ch)) {
            snprintf(ls->problem, sizeof ls->problem,
                     "[gemm] %s = %s is not an engine this build has", name, value);
        } else if (strcmp(name, "fallback") == 0) {
            g->fallback = ch;
        } else if (g->n_tuned < CLAE_MAX_TUNED) {
            snprintf(g->tuned[g->n_tuned].shape, sizeof g->tuned[0].shape, "%s", name);
            g->tuned[g->n_tuned++].choice = ch;
        }
    } else if (strncmp(section, "clblast.", 8) == 0) {
        clae_clblast_params *p = NULL;
        for (int i = 0; i < g->n_clblast; i++)
            if (strcmp(g->clblast[i].kernel, section + 8) == 0) p = &g->clblast[i];
        if (!p && g->n_clblast < CLAE_MAX_CLBLAST_KERNELS) {
            p = &g->clblast[g->n_clblast++];
            snprintf(p->kernel, sizeof p->kernel, "%s", section + 8);
        }
        char *end;
        unsigned long long v = strtoull(value, &end, 10);
        if (!p || p->n == CLAE_MAX_CLBLAST_PARAMS || end == value || *end)
            snprintf(ls->problem, sizeof ls->problem,
                     "[%s] %s = %s: expected at most %d kernels of %d numbers", section, name,
                     value, CLAE_MAX_CLBLAST_KERNELS, CLAE_MAX_CLBLAST_PARAMS);
        else {
            snprintf(p->names[p->n], sizeof p->names[0], "%s", name);
            p->values[p->n++] = (size_t)v;
        }
    }
    return 1;
}

int clae_tuning_load(clae_ctx *ctx)
{
    clae_gemm_state *g = ctx->gemm;
    char path[1024];
    clae_tuning_path(&ctx->dev, path, sizeof path);
    FILE *f = path[0] ? fopen(path, "r") : NULL;
    if (!f) return 0;
    static load_state ls; /* large; contexts are created one at a time */
    memset(&ls, 0, sizeof ls);
    ls.ctx = ctx;
    ls.loaded.fallback = g->fallback;
    int line = ini_parse_file(f, on_entry, &ls);
    fclose(f);
    if (line != 0 && !ls.problem[0])
        snprintf(ls.problem, sizeof ls.problem, "line %d does not parse", line);
    if (!ls.problem[0] &&
        (strcmp(ls.device, ctx->dev.name) || strcmp(ls.driver, ctx->dev.driver_version)))
        snprintf(ls.problem, sizeof ls.problem, "it was measured on '%s' driver %s", ls.device,
                 ls.driver);
    for (int i = 0; !ls.problem[0] && i < ls.loaded.n_clblast; i++)
        if (clae_clblast_apply(ctx, &ls.loaded.clblast[i]))
            snprintf(ls.problem, sizeof ls.problem, "%s", ctx->err.msg);
    if (ls.problem[0]) {
        fprintf(stderr, "clae: ignoring the tuning in %s: %s; run 'clae tune' again\n", path,
                ls.problem);
        return 0;
    }
    g->fallback = ls.loaded.fallback;
    memcpy(g->tuned, ls.loaded.tuned, sizeof g->tuned);
    g->n_tuned = ls.loaded.n_tuned;
    memcpy(g->clblast, ls.loaded.clblast, sizeof g->clblast);
    g->n_clblast = ls.loaded.n_clblast;
    snprintf(g->source, sizeof g->source, "tuned (%s)", path);
    return 0;
}

int clae_tuning_save(const clae_ctx *ctx, const char *path, clae_err *err)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    if (slash && clae_mkdir_p(dir, err)) return -1;
    clae_afile a;
    if (clae_afile_open(&a, path, err)) return -1;
    const clae_gemm_state *g = ctx->gemm;
    char when[32], name[48];
    time_t now = time(NULL);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M", localtime(&now));
    fprintf(a.f, "; clae tune, %s. Delete this file or set CLAE_NO_TUNING=1 for the defaults.\n",
            when);
    fprintf(a.f, "[device]\nname = %s\ndriver = %s\n\n[gemm]\n", ctx->dev.name,
            ctx->dev.driver_version);
    clae_gemm_choice_name(&g->fallback, name, sizeof name);
    fprintf(a.f, "fallback = %s\n", name);
    for (int i = 0; i < g->n_tuned; i++) {
        clae_gemm_choice_name(&g->tuned[i].choice, name, sizeof name);
        fprintf(a.f, "%s = %s\n", g->tuned[i].shape, name);
    }
    for (int i = 0; i < g->n_clblast; i++) {
        fprintf(a.f, "\n[clblast.%s]\n", g->clblast[i].kernel);
        for (int j = 0; j < g->clblast[i].n; j++)
            fprintf(a.f, "%s = %zu\n", g->clblast[i].names[j], g->clblast[i].values[j]);
    }
    return clae_afile_commit(&a, err);
}
