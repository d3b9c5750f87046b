#include <math.h>
#include <stddef.h>
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
    o->no_autotune |= env_flag("CLAE_NO_AUTOTUNE");
    o->dev.ctx = (clae_ctx_opts){
        .device = o->device, .profiling = o->profile, .cl_options = getenv("CLAE_CL_OPTIONS")};
    o->dev.gemm = (clae_gemm_opts){.force = getenv("CLAE_GEMM"),
                                   .no_tuning = env_flag("CLAE_NO_TUNING")};
}

int clae_cli_parse(int argc, char **argv, int first, clae_cli_opts *o, clae_err *err)
{
    return clae_cli_parse_n(argc, argv, first, 1, o, err);
}

/* Options that take a value, and where it goes. */
static const struct {
    const char *name;
    size_t at; /* offsetof(clae_cli_opts, field): a const char * */
} value_opts[] = {
#define VALUE_OPT(name, field)               \
    {                                        \
        name, offsetof(clae_cli_opts, field) \
    }
    VALUE_OPT("--seconds", seconds),
    VALUE_OPT("--steps", steps),
    VALUE_OPT("--device", device),
    VALUE_OPT("--noise", noise),
    VALUE_OPT("--input", input),
    VALUE_OPT("--baseline", baseline),
    VALUE_OPT("--featured", featured),
    VALUE_OPT("--alpha", alpha),
    VALUE_OPT("--attribute", attribute),
    VALUE_OPT("--target", target),
    VALUE_OPT("--n", n),
    VALUE_OPT("--temperature", temperature),
    VALUE_OPT("--split", split),
    VALUE_OPT("-o", out),
    VALUE_OPT("--out", out),
    VALUE_OPT("--run", run_dir),
    VALUE_OPT("--resume", resume),
    VALUE_OPT("--method", method),
    VALUE_OPT("--perplexity", perplexity),
    VALUE_OPT("--seed", seed),
    VALUE_OPT("--score", score),
    VALUE_OPT("--report", report),
    VALUE_OPT("--devices", devices),
    VALUE_OPT("--levels", levels),
    VALUE_OPT("--qualities", qualities),
#undef VALUE_OPT
};

/* Flags, and the bool each sets. */
static const struct {
    const char *name;
    size_t at;
} flag_opts[] = {
#define FLAG_OPT(name, field)                \
    {                                        \
        name, offsetof(clae_cli_opts, field) \
    }
    FLAG_OPT("-h", help),
    FLAG_OPT("--help", help),
    FLAG_OPT("--best", best),
    FLAG_OPT("--profile", profile),
    FLAG_OPT("--each", each),
    FLAG_OPT("--slerp", slerp),
    FLAG_OPT("--logvar", logvar),
    FLAG_OPT("--dry-run", dry_run),
    FLAG_OPT("--resize", resize),
    FLAG_OPT("--jpeg", jpeg),
    FLAG_OPT("--webp", webp),
    FLAG_OPT("--peak", peak),
    FLAG_OPT("--no-autotune", no_autotune),
#undef FLAG_OPT
};

/* a: a flag or an option with a value (argv[*i + 1] or after '='); 1: not one of them */
static int known_option(int argc, char **argv, int *i, clae_cli_opts *o, clae_err *err)
{
    const char *a = argv[*i];
    for (size_t k = 0; k < sizeof flag_opts / sizeof flag_opts[0]; k++)
        if (strcmp(a, flag_opts[k].name) == 0)
            return *(bool *)((char *)o + flag_opts[k].at) = true, 0;
    for (size_t k = 0; k < sizeof value_opts / sizeof value_opts[0]; k++)
        if (is_opt(a, value_opts[k].name))
            return take_value(argc, argv, i, value_opts[k].name,
                              (const char **)((char *)o + value_opts[k].at), err);
    return 1;
}

int clae_cli_parse_n(int argc, char **argv, int first, int max_positional, clae_cli_opts *o,
                     clae_err *err)
{
    memset(o, 0, sizeof *o);
    for (int i = first; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        if (is_opt(a, "--json")) {
            /* --json alone (info: on stdout) or --json FILE (bench) */
            bool alone = a[6] != '=' && (i + 1 >= argc || argv[i + 1][0] == '-');
            if (alone)
                o->json = "-";
            else if (take_value(argc, argv, &i, "--json", &o->json, err))
                return -1;
        } else if (is_opt(a, "--set")) {
            if (take_value(argc, argv, &i, "--set", &v, err)) return -1;
            if (o->n_sets == CLAE_MAX_SETS)
                return clae_fail(err, "at most %d --set options", CLAE_MAX_SETS);
            o->sets[o->n_sets++] = (char *)v;
        } else {
            int rc = known_option(argc, argv, &i, o, err);
            if (rc < 0) return -1;
            if (rc == 0) continue;
            if (a[0] == '-' && a[1])
                return clae_fail(err, "unknown option %s (see --help)", a);
            else if (!o->positional)
                o->positional = a;
            else if (o->n_more < max_positional - 1 && o->n_more < CLAE_MAX_MORE)
                o->more[o->n_more++] = a;
            else
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
