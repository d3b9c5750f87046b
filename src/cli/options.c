#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int clae_cli_error(const clae_err *err)
{
    fprintf(stderr, "clae: %s\n", err->msg);
    return 1;
}

static int take_value(int argc, char **argv, int *i, const char *name, const char **out,
                      clae_err *err)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (a[n] == '=') {
        *out = a + n + 1;
        return 0;
    }
    if (*i + 1 >= argc) return clae_fail(err, "%s needs a value", name);
    *out = argv[++*i];
    return 0;
}

static bool is_opt(const char *a, const char *name)
{
    size_t n = strlen(name);
    return strncmp(a, name, n) == 0 && (a[n] == 0 || a[n] == '=');
}

static bool env_flag(const char *name)
{
    const char *v = getenv(name);
    return v && *v && strcmp(v, "0") != 0;
}

static void read_environment(clae_cli_opts *o)
{
    o->profile |= env_flag("CLAE_PROFILE");
    o->dev.ctx = (clae_ctx_opts){
        .device = o->device, .profiling = o->profile, .cl_options = getenv("CLAE_CL_OPTIONS")};
    o->dev.gemm = (clae_gemm_opts){.force = getenv("CLAE_GEMM"),
                                   .no_tuning = env_flag("CLAE_NO_TUNING")};
}

int clae_cli_parse(int argc, char **argv, int first, clae_cli_opts *o, clae_err *err)
{
    return clae_cli_parse_n(argc, argv, first, 1, o, err);
}

int clae_cli_parse_n(int argc, char **argv, int first, int max_positional, clae_cli_opts *o,
                     clae_err *err)
{
    memset(o, 0, sizeof *o);
    for (int i = first; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
            o->help = true;
        else if (strcmp(a, "--best") == 0)
            o->best = true;
        else if (strcmp(a, "--profile") == 0)
            o->profile = true;
        else if (is_opt(a, "--json")) {
            /* --json alone (info: on stdout) or --json FILE (bench) */
            bool alone = a[6] != '=' && (i + 1 >= argc || argv[i + 1][0] == '-');
            if (alone)
                o->json = "-";
            else if (take_value(argc, argv, &i, "--json", &o->json, err))
                return -1;
        } else if (is_opt(a, "--seconds")) {
            if (take_value(argc, argv, &i, "--seconds", &o->seconds, err)) return -1;
        } else if (is_opt(a, "--steps")) {
            if (take_value(argc, argv, &i, "--steps", &o->steps, err)) return -1;
        } else if (is_opt(a, "--device")) {
            if (take_value(argc, argv, &i, "--device", &o->device, err)) return -1;
        } else if (strcmp(a, "--each") == 0) {
            o->each = true;
        } else if (strcmp(a, "--slerp") == 0) {
            o->slerp = true;
        } else if (is_opt(a, "--noise")) {
            if (take_value(argc, argv, &i, "--noise", &o->noise, err)) return -1;
        } else if (is_opt(a, "--input")) {
            if (take_value(argc, argv, &i, "--input", &o->input, err)) return -1;
        } else if (is_opt(a, "--baseline")) {
            if (take_value(argc, argv, &i, "--baseline", &o->baseline, err)) return -1;
        } else if (is_opt(a, "--featured")) {
            if (take_value(argc, argv, &i, "--featured", &o->featured, err)) return -1;
        } else if (is_opt(a, "--alpha")) {
            if (take_value(argc, argv, &i, "--alpha", &o->alpha, err)) return -1;
        } else if (is_opt(a, "--attribute")) {
            if (take_value(argc, argv, &i, "--attribute", &o->attribute, err)) return -1;
        } else if (is_opt(a, "--target")) {
            if (take_value(argc, argv, &i, "--target", &o->target, err)) return -1;
        } else if (is_opt(a, "--n")) {
            if (take_value(argc, argv, &i, "--n", &o->n, err)) return -1;
        } else if (is_opt(a, "--temperature")) {
            if (take_value(argc, argv, &i, "--temperature", &o->temperature, err)) return -1;
        } else if (is_opt(a, "--split")) {
            if (take_value(argc, argv, &i, "--split", &o->split, err)) return -1;
        } else if (is_opt(a, "-o") || is_opt(a, "--out")) {
            if (take_value(argc, argv, &i, a[1] == 'o' ? "-o" : "--out", &o->out, err)) return -1;
        } else if (is_opt(a, "--run")) {
            if (take_value(argc, argv, &i, "--run", &o->run_dir, err)) return -1;
        } else if (is_opt(a, "--resume")) {
            if (take_value(argc, argv, &i, "--resume", &o->resume, err)) return -1;
        } else if (is_opt(a, "--set")) {
            if (take_value(argc, argv, &i, "--set", &v, err)) return -1;
            if (o->n_sets == CLAE_MAX_SETS)
                return clae_fail(err, "at most %d --set options", CLAE_MAX_SETS);
            o->sets[o->n_sets++] = (char *)v;
        } else if (a[0] == '-' && a[1]) {
            return clae_fail(err, "unknown option %s (see --help)", a);
        } else if (!o->positional) {
            o->positional = a;
        } else if (o->n_more < max_positional - 1 && o->n_more < CLAE_MAX_MORE) {
            o->more[o->n_more++] = a;
        } else {
            return clae_fail(err, "unexpected argument '%s' (see --help)", a);
        }
    }
    read_environment(o);
    return 0;
}

int clae_cli_number(const char *opt, const char *text, double def, double *out, clae_err *err)
{
    if (!text) {
        *out = def;
        return 0;
    }
    char *end;
    double v = strtod(text, &end);
    if (end == text || *end || !isfinite(v) || v <= 0)
        return clae_fail(err, "%s '%s': expected a positive number", opt, text);
    *out = v;
    return 0;
}
