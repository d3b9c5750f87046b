/* clae tune: measures, per GEMM shape the configured models use, CLBlast (with
 * its defaults and with a few kernel parameter sets) against clae's own GEMM
 * variants and work-group sizes; checks every candidate's result against a
 * double-precision reference before accepting it; stores the fastest per shape,
 * a fallback for other shapes and the best CLBlast parameters in the user's
 * cache for this device and driver. Later runs load them at context creation. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "clae/clock.h"
#include "clae/ops.h"
#include "cli.h"

#define MEASURE_S 0.05 /* timed per candidate and shape */
#define N_SAMPLES 48   /* entries of C checked against the host reference */

typedef struct {
    size_t m, n, k;
    bool ta, tb;
} gemm_shape;

/* CLBlast parameter sets tried besides its defaults, one row per kernel:
 * Xgemm (large shapes), XgemmDirect (small ones) and the copy, pad and
 * transpose kernels the indirect GEMM runs around Xgemm. Sets 1-4 are
 * CPU-style (wide vectors, no local memory, more work per thread), 5-6
 * GPU-style (16x16 threads, local memory tiles). A set CLBlast refuses, or
 * whose results are wrong, is skipped. */
typedef struct {
    const char *kernel;
    int n;
    const char *names[16];
} kernel_params;

static const kernel_params clblast_kernels[] = {
    {"Xgemm",
     16,
     {"GEMMK", "KREG", "KWG", "KWI", "MDIMA", "MDIMC", "MWG", "NDIMB", "NDIMC", "NWG", "SA", "SB",
      "STRM", "STRN", "VWM", "VWN"}},
    {"XgemmDirect",
     10,
     {"KWID", "MDIMAD", "MDIMCD", "NDIMBD", "NDIMCD", "PADA", "PADB", "VWMD", "VWND", "WGD"}},
    {"Copy", 4, {"COPY_DIMX", "COPY_DIMY", "COPY_VW", "COPY_WPT"}},
    {"Pad", 4, {"PAD_DIMX", "PAD_DIMY", "PAD_WPTX", "PAD_WPTY"}},
    {"Transpose", 4, {"TRA_DIM", "TRA_PAD", "TRA_SHUFFLE", "TRA_WPT"}},
    {"Padtranspose", 3, {"PADTRA_PAD", "PADTRA_TILE", "PADTRA_WPT"}},
};
#define N_CLBLAST_KERNELS (int)(sizeof clblast_kernels / sizeof clblast_kernels[0])

static const size_t clblast_sets[][N_CLBLAST_KERNELS][16] = {
    {{0, 1, 32, 2, 8, 8, 64, 8, 8, 64, 0, 0, 0, 0, 4, 4},
     {2, 8, 8, 8, 8, 1, 1, 4, 4, 32},
     {8, 8, 4, 4},
     {8, 8, 4, 4},
     {8, 0, 0, 4},
     {0, 8, 4}},
    {{0, 1, 32, 8, 4, 4, 32, 4, 4, 64, 0, 0, 0, 0, 8, 8},
     {2, 8, 8, 8, 8, 1, 1, 4, 4, 32},
     {8, 8, 8, 4},
     {8, 8, 4, 4},
     {8, 0, 0, 4},
     {0, 8, 4}},
    {{0, 1, 32, 2, 8, 8, 64, 8, 8, 128, 0, 0, 0, 0, 8, 16},
     {2, 8, 8, 8, 8, 1, 1, 4, 4, 32},
     {8, 8, 8, 4},
     {8, 8, 4, 4},
     {8, 0, 0, 4},
     {0, 8, 4}},
    {{0, 1, 64, 8, 2, 2, 16, 4, 4, 64, 0, 0, 0, 0, 8, 16},
     {2, 8, 8, 8, 8, 1, 1, 4, 4, 32},
     {8, 8, 8, 4},
     {8, 8, 4, 4},
     {8, 0, 0, 4},
     {0, 8, 4}},
    {{0, 1, 16, 2, 16, 16, 128, 16, 16, 128, 1, 1, 0, 0, 4, 4},
     {2, 4, 4, 4, 4, 0, 0, 4, 4, 16},
     {8, 8, 4, 2},
     {16, 8, 1, 2},
     {16, 1, 0, 4},
     {1, 16, 2}},
    {{0, 1, 16, 2, 16, 16, 64, 16, 16, 64, 1, 1, 0, 0, 2, 2},
     {2, 4, 4, 4, 4, 0, 0, 4, 4, 16},
     {8, 8, 4, 2},
     {16, 8, 1, 2},
     {16, 1, 0, 4},
     {1, 16, 2}},
};
#define N_CLBLAST_SETS (int)(sizeof clblast_sets / sizeof clblast_sets[0])

static void clblast_set(int i, clae_clblast_params out[CLAE_MAX_CLBLAST_KERNELS])
{
    memset(out, 0, CLAE_MAX_CLBLAST_KERNELS * sizeof *out);
    for (int k = 0; k < N_CLBLAST_KERNELS; k++) {
        snprintf(out[k].kernel, sizeof out[k].kernel, "%s", clblast_kernels[k].kernel);
        out[k].n = clblast_kernels[k].n;
        for (int j = 0; j < out[k].n; j++) {
            snprintf(out[k].names[j], sizeof out[k].names[j], "%s", clblast_kernels[k].names[j]);
            out[k].values[j] = clblast_sets[i][k][j];
        }
    }
}

/* --- one measurement ------------------------------------------------------- */

static float rand_pm1(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((*s >> 40) & 0xFFFFFF) / 8388608.0f - 1.0f;
}

/* Seconds per call of ch on shape s, or a negative value when the candidate
 * failed or gave a wrong result (why goes to why). */
static double measure(clae_ctx *ctx, const clae_gemm_choice *ch, const gemm_shape *s, char *why,
                      size_t why_len)
{
    size_t na = s->m * s->k, nb = s->k * s->n, nc = s->m * s->n;
    size_t lda = s->ta ? s->m : s->k, ldb = s->tb ? s->k : s->n;
    float *ha = malloc(na * sizeof *ha), *hb = malloc(nb * sizeof *hb);
    clae_tensor a = {0}, b = {0}, c = {0};
    double result = -1;
    why[0] = 0;
    if (!ha || !hb) {
        snprintf(why, why_len, "out of host memory");
        goto done;
    }
    uint64_t seed = s->m * 7919 + s->n * 104729 + s->k;
    for (size_t i = 0; i < na; i++) ha[i] = rand_pm1(&seed);
    for (size_t i = 0; i < nb; i++) hb[i] = rand_pm1(&seed);
    if (clae_tensor_create(ctx, (clae_shape){1, 1, 1, (int)na}, &a) ||
        clae_tensor_create(ctx, (clae_shape){1, 1, 1, (int)nb}, &b) ||
        clae_tensor_create(ctx, (clae_shape){1, 1, 1, (int)nc}, &c) ||
        clae_tensor_write(ctx, &a, ha, na) || clae_tensor_write(ctx, &b, hb, nb) ||
        clae_gemm_with(ctx, ch, s->ta, s->tb, s->m, s->n, s->k, 1.0f, &a, lda, &b, ldb, 0.0f, &c,
                       s->n) ||
        clae_finish(ctx)) {
        snprintf(why, why_len, "%s", ctx->err.msg);
        goto done;
    }
    uint64_t pick = 12345;
    for (int t = 0; t < N_SAMPLES; t++) {
        size_t i = (size_t)((rand_pm1(&pick) + 1.0f) * 0.5f * (float)s->m) % s->m;
        size_t j = (size_t)((rand_pm1(&pick) + 1.0f) * 0.5f * (float)s->n) % s->n;
        if (t == 0) i = 0, j = 0;
        if (t == 1) i = s->m - 1, j = s->n - 1; /* both edges of the tiling */
        double ref = 0, mag = 0;
        for (size_t p = 0; p < s->k; p++) {
            double x = s->ta ? ha[p * lda + i] : ha[i * lda + p],
                   y = s->tb ? hb[j * ldb + p] : hb[p * ldb + j];
            ref += x * y, mag += fabs(x * y);
        }
        float got;
        clae_tensor one = c;
        one.off = i * s->n + j;
        if (clae_tensor_read(ctx, &one, &got, 1)) {
            snprintf(why, why_len, "%s", ctx->err.msg);
            goto done;
        }
        if (!(fabs(got - ref) <= 1e-5 * mag + 1e-6)) {
            snprintf(why, why_len, "wrong result: C[%zu][%zu] = %g, expected %g", i, j, got, ref);
            goto done;
        }
    }
    int reps = 0;
    double t0 = clae_now(), el = 0;
    while (reps < 2 || el < MEASURE_S) {
        if (clae_gemm_with(ctx, ch, s->ta, s->tb, s->m, s->n, s->k, 1.0f, &a, lda, &b, ldb, 0.0f,
                           &c, s->n) ||
            clae_finish(ctx)) {
            snprintf(why, why_len, "%s", ctx->err.msg);
            goto done;
        }
        reps++;
        el = clae_now() - t0;
    }
    result = el / reps;
done:
    free(ha), free(hb);
    if (a.arena) clae_tensor_destroy(&a);
    if (b.arena) clae_tensor_destroy(&b);
    if (c.arena) clae_tensor_destroy(&c);
    return result;
}

/* --- the search ------------------------------------------------------------ */

#define MAX_CAND 32

typedef struct {
    clae_ctx *ctx;
    double deadline;
    gemm_shape shapes[CLAE_MAX_TUNED];
    int n_shapes;
    /* candidates: 0 CLBlast defaults, 1..N_CLBLAST_SETS CLBlast sets, then own variants */
    clae_gemm_choice cand[MAX_CAND];
    char cand_name[MAX_CAND][48];
    int n_cand, n_clblast;
    double secs[MAX_CAND][CLAE_MAX_TUNED]; /* < 0: failed; 0: not measured */
    int measured, rejected;
} tune_state;

static void shape_key(const gemm_shape *s, char *out, size_t n)
{
    clae_gemm_shape_key(out, n, s->ta, s->tb, s->m, s->n, s->k);
}

static bool out_of_time(const tune_state *ts) { return clae_now() > ts->deadline; }

static void measure_into(tune_state *ts, int c, int s)
{
    char why[300], key[48];
    double t = measure(ts->ctx, &ts->cand[c], &ts->shapes[s], why, sizeof why);
    ts->secs[c][s] = t;
    ts->measured++;
    if (t < 0) {
        ts->rejected++;
        shape_key(&ts->shapes[s], key, sizeof key);
        printf("  rejected %s at %s: %s\n", ts->cand_name[c], key, why);
    }
}

/* Total seconds of candidate c over the first n shapes; infinite if any failed
 * or was not measured. */
static double total_time(const tune_state *ts, int c, int n)
{
    double t = 0;
    for (int s = 0; s < n && isfinite(t); s++)
        t = ts->secs[c][s] > 0 ? t + ts->secs[c][s] : INFINITY;
    return t;
}

static bool apply_set(tune_state *ts, int c)
{
    clae_clblast_params p[CLAE_MAX_CLBLAST_KERNELS];
    clblast_set(c - 1, p);
    for (int k = 0; k < N_CLBLAST_KERNELS; k++)
        if (clae_clblast_apply(ts->ctx, &p[k])) {
            printf("  %s: %s\n", ts->cand_name[c], ts->ctx->err.msg);
            return false;
        }
    return true;
}

/* CLBlast's defaults on every shape, then each parameter set on the largest
 * shapes (a set applies to all shapes at once and recompiles CLBlast's
 * kernels, so sets are compared on a few); a set that beats the defaults there
 * is then measured on every shape. Returns the set in use (0: defaults). */
#define SET_SHAPES 6
static int search_clblast(tune_state *ts, double deadline)
{
    for (int s = 0; s < ts->n_shapes && clae_now() < deadline; s++) measure_into(ts, 0, s);
    int top = ts->n_shapes < SET_SHAPES ? ts->n_shapes : SET_SHAPES, best = 0;
    double best_t = total_time(ts, 0, top);
    printf("  %-28s %8.2f ms on the %d largest shapes\n", ts->cand_name[0], best_t * 1e3, top);
    for (int c = 1; c < ts->n_clblast && clae_now() < deadline; c++) {
        if (!apply_set(ts, c)) continue;
        for (int s = 0; s < top && clae_now() < deadline; s++) measure_into(ts, c, s);
        double t = total_time(ts, c, top);
        printf("  %-28s %8.2f ms\n", ts->cand_name[c], t * 1e3);
        fflush(stdout);
        if (t < best_t) best_t = t, best = c;
    }
    if (best > 0 && apply_set(ts, best))
        for (int s = top; s < ts->n_shapes; s++) measure_into(ts, best, s);
    return best;
}

/* The default own variant's candidate index (work-groups of 4), -1 if absent. */
static int default_candidate(const tune_state *ts)
{
    const clae_gemm_choice *d = clae_gemm_own_for_device(&ts->ctx->dev);
    for (int c = ts->n_clblast; c < ts->n_cand; c++)
        if (ts->cand[c].mr == d->mr && ts->cand[c].nv == d->nv && ts->cand[c].w == d->w &&
            ts->cand[c].group == d->group)
            return c;
    return -1;
}

/* Every own variant at work-groups of 4 tiles, the default first, then the
 * best one at 1 and 16, until the deadline: a shape is started only when one
 * as long as the last still fits, and left (with the default measured) when
 * the time runs out in it. */
static void search_own(tune_state *ts, double deadline)
{
    const int def = default_candidate(ts);
    double last = 0;
    for (int s = 0; s < ts->n_shapes && clae_now() + last < deadline; s++) {
        double started = clae_now();
        int best = -1;
        for (int i = -1; i < ts->n_cand; i++) {
            int c = i < 0 ? def : i;
            if (c < ts->n_clblast || ts->cand[c].group != 4 || (i >= 0 && c == def)) continue;
            if (i >= 0 && clae_now() > deadline) break;
            measure_into(ts, c, s);
            if (ts->secs[c][s] > 0 && (best < 0 || ts->secs[c][s] < ts->secs[best][s])) best = c;
        }
        for (int c = ts->n_clblast; best >= 0 && c < ts->n_cand && clae_now() < deadline; c++) {
            const clae_gemm_choice *x = &ts->cand[c], *y = &ts->cand[best];
            if (x->group != 4 && x->mr == y->mr && x->nv == y->nv && x->w == y->w)
                measure_into(ts, c, s);
        }
        char key[48];
        shape_key(&ts->shapes[s], key, sizeof key);
        if (best >= 0) {
            const gemm_shape *sh = &ts->shapes[s];
            printf("  [%d/%d] %-22s %-18s %7.1f GFLOP/s\n", s + 1, ts->n_shapes, key,
                   ts->cand_name[best], 2.0 * sh->m * sh->n * sh->k / ts->secs[best][s] * 1e-9);
        }
        fflush(stdout);
        last = clae_now() - started;
    }
}

static int best_for_shape(const tune_state *ts, int s)
{
    int best = -1;
    for (int c = 0; c < ts->n_cand; c++)
        if (ts->secs[c][s] > 0 && (best < 0 || ts->secs[c][s] < ts->secs[best][s])) best = c;
    return best;
}

static void add_candidates(tune_state *ts)
{
    ts->n_cand = 0;
    ts->cand[ts->n_cand++] = (clae_gemm_choice){CLAE_GEMM_CLBLAST, 0, 0, 0, 0};
    snprintf(ts->cand_name[0], 48, "clblast (defaults)");
    for (int i = 0; i < N_CLBLAST_SETS; i++) {
        ts->cand[ts->n_cand] = (clae_gemm_choice){CLAE_GEMM_CLBLAST, 0, 0, 0, 0};
        snprintf(ts->cand_name[ts->n_cand++], 48, "clblast (set %d)", i + 1);
    }
    ts->n_clblast = ts->n_cand;
    clae_gemm_choice ch;
    for (int i = 0; clae_gemm_own_variant(i, &ch) == 0 && ts->n_cand + 2 < MAX_CAND; i++)
        for (int g = 1; g <= 16; g *= 4) { /* work-groups of 1, 4 and 16 tiles */
            ch.group = g;
            if (ts->n_cand == MAX_CAND) break;
            ts->cand[ts->n_cand] = ch;
            clae_gemm_choice_name(&ch, ts->cand_name[ts->n_cand++], 48);
        }
}

/* --- the command ----------------------------------------------------------- */

static void usage(void)
{
    printf(
        "usage: clae tune [CONFIGS] [--device SPEC] [--seconds S]\n\n"
        "  CONFIGS     comma list of config names (configs/NAME.ini) or .ini paths whose GEMM "
        "shapes\n"
        "              are tuned (default: every configs/*.ini), plus SGEMM 1024^3\n"
        "  --seconds   time budget (default 240); shapes not reached keep the fallback\n\n"
        "  Candidates per shape: CLBlast with its defaults and with %d kernel parameter sets, and\n"
        "  clae's own GEMM variants with work-groups of 1, 4 and 16 tiles. Each result is checked\n"
        "  against a double-precision reference before it counts. The choices are stored per "
        "device\n"
        "  and driver in the cache ($CLAE_CACHE_DIR, else ~/.cache/clae/tuning) and applied by "
        "every\n"
        "  later run on this device (CLAE_NO_TUNING=1 turns that off; CLAE_GEMM=... forces an "
        "engine).\n",
        N_CLBLAST_SETS);
}

static void add_shape(tune_state *ts, size_t m, size_t n, size_t k, bool ta, bool tb)
{
    for (int i = 0; i < ts->n_shapes; i++) {
        const gemm_shape *s = &ts->shapes[i];
        if (s->m == m && s->n == n && s->k == k && s->ta == ta && s->tb == tb) return;
    }
    if (ts->n_shapes < CLAE_MAX_TUNED) ts->shapes[ts->n_shapes++] = (gemm_shape){m, n, k, ta, tb};
}

static int by_flops_desc(const void *a, const void *b)
{
    const gemm_shape *x = a, *y = b;
    double fx = (double)x->m * x->n * x->k, fy = (double)y->m * y->n * y->k;
    return (fx < fy) - (fx > fy);
}

/* Shapes of one training step of each config (and SGEMM 1024^3 with
 * with_peak), largest first. */
static int collect_shapes(tune_state *ts, const char *list, bool with_peak, clae_err *err)
{
    char items[4096];
    int n = 0;
    if (list) {
        snprintf(items, sizeof items, "%s", list);
    } else {
        const char *dir = "configs";
        DIR *d = opendir(dir);
        if (!d) d = opendir(dir = CLAE_CONFIGS_DIR);
        if (!d)
            return clae_fail(
                err, "tune: no configs/ folder here or in %s: name the configs (see --help)", dir);
        items[0] = 0;
        for (struct dirent *e; (e = readdir(d));) {
            size_t len = strlen(e->d_name);
            if (len > 4 && strcmp(e->d_name + len - 4, ".ini") == 0 &&
                strlen(items) + strlen(dir) + len + 4 < sizeof items)
                snprintf(items + strlen(items), sizeof items - strlen(items), "%s%s/%s",
                         items[0] ? "," : "", dir, e->d_name);
        }
        closedir(d);
    }
    clae_gemm_state *g = ts->ctx->gemm;
    for (char *save = NULL, *tok = strtok_r(items, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        char path[1024];
        g->n_seen = 0;
        if (bench_resolve_config(tok, path, sizeof path, err)) {
            char why[sizeof err->msg];
            snprintf(why, sizeof why, "%s", err->msg);
            return clae_fail(err, "tune: %s", why);
        }
        if (bench_record_shapes(ts->ctx, path, err)) return -1;
        for (int i = 0; i < g->n_seen; i++)
            add_shape(ts, g->seen[i].m, g->seen[i].n, g->seen[i].k, g->seen[i].ta, g->seen[i].tb);
        n++;
    }
    if (with_peak) add_shape(ts, 1024, 1024, 1024, false, false);
    qsort(ts->shapes, (size_t)ts->n_shapes, sizeof ts->shapes[0], by_flops_desc);
    printf("%d GEMM shapes from %d config%s\n", ts->n_shapes, n, n == 1 ? "" : "s");
    return 0;
}

/* Writes the winners into ctx->gemm: per shape, the fallback (the candidate
 * with the least total time over all shapes) and the CLBlast set, if any beat
 * CLBlast's defaults. */
static void choose(tune_state *ts, int set, bool table)
{
    clae_gemm_state *g = ts->ctx->gemm;
    g->n_clblast = 0;
    if (set > 0) {
        clblast_set(set - 1, g->clblast);
        g->n_clblast = N_CLBLAST_KERNELS;
    }
    /* CLBlast's parameters are global, so only the set in use competes per shape */
    for (int c = 0; c < ts->n_clblast; c++)
        if (c != set)
            for (int s = 0; s < ts->n_shapes; s++) ts->secs[c][s] = -1;
    int fallback = -1;
    double fallback_t = INFINITY;
    for (int c = 0; c < ts->n_cand; c++) {
        double t = total_time(ts, c, ts->n_shapes);
        if (t < fallback_t) fallback_t = t, fallback = c;
    }
    if (fallback >= 0) g->fallback = ts->cand[fallback];
    g->n_tuned = 0;
    if (table)
        printf("%-24s %-26s %10s %10s %10s\n", "shape", "choice", "GFLOP/s", "clblast", "speed-up");
    for (int s = 0; s < ts->n_shapes; s++) {
        int b = best_for_shape(ts, s);
        if (b < 0) continue;
        const gemm_shape *sh = &ts->shapes[s];
        clae_gemm_tuned *t = &g->tuned[g->n_tuned++];
        shape_key(sh, t->shape, sizeof t->shape);
        t->choice = ts->cand[b];
        double flop = 2.0 * sh->m * sh->n * sh->k, cb = ts->secs[set][s];
        char name[48];
        clae_gemm_choice_name(&t->choice, name, sizeof name);
        if (table)
            printf("%-24s %-26s %10.1f %10.1f %9.1fx\n", t->shape, name,
                   flop / ts->secs[b][s] * 1e-9, cb > 0 ? flop / cb * 1e-9 : 0.0,
                   cb > 0 ? cb / ts->secs[b][s] : 0.0);
    }
}

int tune_autotune(clae_ctx *ctx, const char *config_path, double seconds, clae_err *err)
{
    static tune_state ts; /* large: keep it off the stack */
    memset(&ts, 0, sizeof ts);
    ts.ctx = ctx;
    double t0 = clae_now();
    ts.deadline = t0 + seconds;
    printf("autotune: no tuning for %s yet: measuring clae's GEMM variants on this config's "
           "shapes (at most %.0f s; --no-autotune or train.autotune = 0 skips it)\n",
           ctx->dev.name, seconds);
    fflush(stdout);
    if (collect_shapes(&ts, config_path, false, err)) return -1;
    add_candidates(&ts);
    search_own(&ts, ts.deadline);
    choose(&ts, 0, false);
    /* what the per-shape winners save against the defaults, on the shapes both ran */
    int def = default_candidate(&ts);
    double won = 0, base = 0;
    for (int s = 0; s < ts.n_shapes && def >= 0; s++) {
        int b = best_for_shape(&ts, s);
        if (b >= 0 && ts.secs[def][s] > 0) won += ts.secs[b][s], base += ts.secs[def][s];
    }
    char path[1024];
    clae_tuning_path(&ctx->dev, path, sizeof path);
    if (!path[0]) return clae_fail(err, "autotune: no cache folder (set CLAE_CACHE_DIR or HOME)");
    if (clae_tuning_save(ctx, path, err)) return -1;
    snprintf(ctx->gemm->source, sizeof ctx->gemm->source, "autotuned (%s)", path);
    printf("autotune: %d of %d shapes in %.1f s, %.2fx the defaults' speed on them; wrote %s\n",
           ctx->gemm->n_tuned, ts.n_shapes, clae_now() - t0, won > 0 ? base / won : 1.0, path);
    return 0;
}

int cmd_tune(int argc, char **argv)
{
    clae_cli_opts o;
    clae_err err;
    double budget;
    if (clae_cli_parse(argc, argv, 2, &o, &err)) return clae_cli_error(&err);
    if (o.help) return usage(), 0;
    if (clae_cli_number("--seconds", o.seconds, 240, &budget, &err)) return clae_cli_error(&err);
    if (o.dev.gemm.force && *o.dev.gemm.force)
        return clae_cli_error(
            &(clae_err){"tune: CLAE_GEMM is set, which would override every result: unset it"});
    o.dev.gemm.no_tuning = true; /* measure from the defaults, not from an earlier tuning */
    clae_ctx ctx;
    if (clae_device_open(&ctx, &o.dev, &err)) return clae_cli_error(&err);
    static tune_state ts; /* large: keep it off the stack */
    memset(&ts, 0, sizeof ts);
    ts.ctx = &ctx;
    double t0 = clae_now();
    ts.deadline = t0 + budget;
    printf("tuning GEMM on %s (%s), driver %s, budget %.0f s\n", ctx.dev.name,
           clae_device_kind_name(ctx.dev.kind), ctx.dev.driver_version, budget);
    int rc = collect_shapes(&ts, o.positional, true, &err);
    if (rc == 0) {
        add_candidates(&ts);
        double left = ts.deadline - clae_now();
        printf("clae's own GEMM, %d variants:\n", (ts.n_cand - ts.n_clblast) / 3);
        search_own(&ts, clae_now() + 0.55 * left);
        printf("CLBlast, its defaults and %d parameter sets:\n", ts.n_clblast - 1);
        int set = search_clblast(&ts, ts.deadline);
        if (out_of_time(&ts)) printf("the budget ran out: shapes not measured keep the fallback\n");
        choose(&ts, set, true);
        char path[1024], name[48];
        clae_tuning_path(&ctx.dev, path, sizeof path);
        clae_gemm_choice_name(&ctx.gemm->fallback, name, sizeof name);
        printf("fallback for other shapes: %s; CLBlast parameters: %s\n", name,
               ctx.gemm->n_clblast ? "tuned set" : "its defaults");
        printf("%d measurements, %d rejected, %.0f s\n", ts.measured, ts.rejected, clae_now() - t0);
        if (!path[0])
            rc = clae_fail(
                &err, "tune: no cache folder (set CLAE_CACHE_DIR or HOME) to store the results");
        else if ((rc = clae_tuning_save(&ctx, path, &err)) == 0)
            printf("wrote %s\n", path);
    }
    clae_device_close(&ctx);
    return rc ? clae_cli_error(&err) : 0;
}
