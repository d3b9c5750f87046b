/* The one GEMM every layer uses, row-major, on the context's queue: CLBlast, or
 * clae's own packed-panel kernels (cl/gemm.cl) where measurement says they win.
 * Which one runs for a shape comes from ctx->gemm: a forced engine, else
 * the shape's entry in the tuning (clae tune), else the fallback (the tuned one,
 * or own on CPU devices and CLBlast elsewhere).
 * CLBlast compiles each routine on first use per context and keeps it in
 * memory only, so its first call is slow (reported apart from training time). */
#include <clblast_c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clae/ops.h"

const char *clae_clblast_status_name(int status)
{
    switch (status) {
    case CLBlastNotImplemented: return "CLBlastNotImplemented";
    case CLBlastInvalidMatrixA: return "CLBlastInvalidMatrixA";
    case CLBlastInvalidMatrixB: return "CLBlastInvalidMatrixB";
    case CLBlastInvalidMatrixC: return "CLBlastInvalidMatrixC";
    case CLBlastInvalidVectorX: return "CLBlastInvalidVectorX";
    case CLBlastInvalidVectorY: return "CLBlastInvalidVectorY";
    case CLBlastInvalidDimension: return "CLBlastInvalidDimension";
    case CLBlastInvalidLeadDimA: return "CLBlastInvalidLeadDimA";
    case CLBlastInvalidLeadDimB: return "CLBlastInvalidLeadDimB";
    case CLBlastInvalidLeadDimC: return "CLBlastInvalidLeadDimC";
    case CLBlastInvalidIncrementX: return "CLBlastInvalidIncrementX";
    case CLBlastInvalidIncrementY: return "CLBlastInvalidIncrementY";
    case CLBlastInsufficientMemoryA: return "CLBlastInsufficientMemoryA";
    case CLBlastInsufficientMemoryB: return "CLBlastInsufficientMemoryB";
    case CLBlastInsufficientMemoryC: return "CLBlastInsufficientMemoryC";
    case CLBlastInsufficientMemoryX: return "CLBlastInsufficientMemoryX";
    case CLBlastInsufficientMemoryY: return "CLBlastInsufficientMemoryY";
    case CLBlastInsufficientMemoryTemp: return "CLBlastInsufficientMemoryTemp";
    case CLBlastInvalidBatchCount: return "CLBlastInvalidBatchCount";
    case CLBlastInvalidOverrideKernel: return "CLBlastInvalidOverrideKernel";
    case CLBlastMissingOverrideParameter: return "CLBlastMissingOverrideParameter";
    case CLBlastInvalidLocalMemUsage: return "CLBlastInvalidLocalMemUsage";
    case CLBlastNoHalfPrecision: return "CLBlastNoHalfPrecision";
    case CLBlastNoDoublePrecision: return "CLBlastNoDoublePrecision";
    case CLBlastInvalidVectorScalar: return "CLBlastInvalidVectorScalar";
    case CLBlastInsufficientMemoryScalar: return "CLBlastInsufficientMemoryScalar";
    case CLBlastDatabaseError: return "CLBlastDatabaseError";
    case CLBlastUnknownError: return "CLBlastUnknownError";
    case CLBlastUnexpectedError: return "CLBlastUnexpectedError";
    default: return clae_cl_error_name(status); /* the rest mirror cl_int */
    }
}

static int gemm_clblast(clae_ctx *ctx, bool trans_a, bool trans_b, size_t m, size_t n, size_t k,
                        float alpha, const clae_tensor *a, size_t lda, const clae_tensor *b,
                        size_t ldb, float beta, clae_tensor *c, size_t ldc)
{
    cl_event ev = NULL;
    CLBlastStatusCode s = CLBlastSgemm(
        CLBlastLayoutRowMajor, trans_a ? CLBlastTransposeYes : CLBlastTransposeNo,
        trans_b ? CLBlastTransposeYes : CLBlastTransposeNo, m, n, k, alpha, clae_buf(a), a->off,
        lda, clae_buf(b), b->off, ldb, beta, clae_buf(c), c->off, ldc, &ctx->queue,
        ctx->profiling ? &ev : NULL);
    if (s != CLBlastSuccess)
        return clae_fail(&ctx->err, "CLBlastSgemm(%c%c, m=%zu n=%zu k=%zu) failed: %s (%d)",
                         trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', m, n, k,
                         clae_clblast_status_name(s), (int)s);
    if (ev) {
        char name[64];
        snprintf(name, sizeof name, "sgemm %c%c %zux%zux%zu", trans_a ? 'T' : 'N',
                 trans_b ? 'T' : 'N', m, n, k);
        clae_profile_event(ctx, name, ev);
    }
    return 0;
}

/* A context-owned buffer that grows to the largest size asked, never shrinks. */
static int grow_buffer(clae_ctx *ctx, cl_mem *buf, size_t *have, size_t bytes, const char *what)
{
    if (bytes <= *have) return 0;
    if (*buf) clReleaseMemObject(*buf);
    *buf = NULL;
    *have = 0;
    /* queued kernels may still read the old buffer: clReleaseMemObject defers
     * the free until they finish, as OpenCL promises */
    cl_int rc;
    *buf = clCreateBuffer(ctx->context, CL_MEM_READ_WRITE, bytes, NULL, &rc);
    if (rc != CL_SUCCESS) return clae_cl_fail(ctx, rc, what);
    *have = bytes;
    return 0;
}

static int ensure_scratch(clae_ctx *ctx, size_t bytes)
{
    return grow_buffer(ctx, &ctx->gemm->scratch, &ctx->gemm->scratch_bytes, bytes,
                       "clCreateBuffer(GEMM packing panels)");
}

cl_mem clae_gemm_operand_buffer(clae_ctx *ctx, int slot, size_t bytes)
{
    if (grow_buffer(ctx, &ctx->gemm->operand[slot], &ctx->gemm->operand_bytes[slot], bytes,
                    "clCreateBuffer(GEMM operand)"))
        return NULL;
    return ctx->gemm->operand[slot];
}

/* The profile names each call by its shape (clae_gemm_shape_key), as clae tune keys them. */
static int launch_tiles(clae_ctx *ctx, const clae_gemm_choice *ch, const clae_gemm_desc *d,
                        size_t mblocks, size_t nblocks, const clae_karg *args, int nargs)
{
    char name[32], shape[48], profile_name[64];
    snprintf(name, sizeof name, "gemm_tile_%dx%dx%d", ch->mr, ch->nv, ch->w);
    clae_gemm_shape_key(shape, sizeof shape, d->trans_a, d->trans_b, d->m, d->n, d->k);
    snprintf(profile_name, sizeof profile_name, "gemm %s", shape);
    return clae_launch2(ctx, name, profile_name, mblocks, nblocks, (size_t)ch->group, args, nargs);
}

/* B's panel: packed from a matrix (optionally with batched columns) or from images. */
static int pack_b(clae_ctx *ctx, const clae_gemm_desc *d, size_t nr, cl_mem panel)
{
    size_t nblocks = (d->n + nr - 1) / nr, kblocks = (d->k + 15) / 16, items = nblocks * kblocks;
    const clae_tensor *b = d->b;
    if (d->b_im2col) {
        const clae_conv_geom *g = d->b_im2col;
        char name[32];
        snprintf(name, sizeof name, "gemm_pack_im2col_%zu", nr);
        return CLAE_LAUNCH(ctx, name, items, KARG_MEM(clae_buf(b)), KARG_U32(b->off),
                           KARG_U32(d->b_images), KARG_U32(g->c), KARG_U32(g->h), KARG_U32(g->w),
                           KARG_U32(g->kh), KARG_U32(g->kw), KARG_U32(g->sh), KARG_U32(g->sw),
                           KARG_U32(g->ph), KARG_U32(g->pw), KARG_U32(g->dh), KARG_U32(g->dw),
                           KARG_U32(g->ho), KARG_U32(g->wo), KARG_U32(!d->trans_b), KARG_U32(d->k),
                           KARG_U32(d->n), KARG_MEM(panel), KARG_U32(0), KARG_U32(kblocks),
                           KARG_U32(items));
    }
    if (d->trans_b)
        return CLAE_LAUNCH(ctx, "gemm_pack_bt", items, KARG_MEM(clae_buf(b)), KARG_U32(b->off),
                           KARG_U32(d->ldb), KARG_U32(d->k), KARG_U32(d->n), KARG_U32(nr),
                           KARG_U32(d->b_kcols ? d->b_kcols : d->k), KARG_U32(d->b_kimg),
                           KARG_MEM(panel), KARG_U32(0), KARG_U32(kblocks), KARG_U32(items));
    return CLAE_LAUNCH(ctx, "gemm_pack_b", items, KARG_MEM(clae_buf(b)), KARG_U32(b->off),
                       KARG_U32(d->ldb), KARG_U32(d->k), KARG_U32(d->n), KARG_U32(nr),
                       KARG_U32(d->b_cols ? d->b_cols : d->n), KARG_U32(d->b_img), KARG_MEM(panel),
                       KARG_U32(0), KARG_U32(kblocks), KARG_U32(items));
}

/* Largest element index an operand reaches, to refuse what 32-bit indices cannot hold. */
static bool fits_u32(const clae_gemm_desc *d, size_t b_len)
{
    size_t a_rows = d->trans_a ? d->k : d->m, c_span = d->c->off + d->m * d->ldc;
    if (d->c_cols) c_span += (d->n / d->c_cols + 1) * d->c_img;
    size_t a_span = d->a->off + (d->a_taps
                                     ? clae_shape_numel(d->a->shape)
                                     : a_rows * d->lda +
                                           (d->a_kcols ? (d->k / d->a_kcols + 1) * d->a_kimg : 0));
    return b_len <= UINT32_MAX && a_span <= UINT32_MAX && c_span <= UINT32_MAX &&
           clae_shape_numel(d->b->shape) + d->b->off <= UINT32_MAX;
}

int clae_gemm_run(clae_ctx *ctx, const clae_gemm_choice *ch, const clae_gemm_desc *d)
{
    if (d->m == 0 || d->n == 0) return 0;
    if (ch->engine != CLAE_GEMM_OWN)
        return clae_fail(
            &ctx->err,
            "clae_gemm_run needs the own GEMM engine (layers fall back to CLBlast's path)");
    size_t nr = (size_t)ch->nv * ch->w;
    size_t mblocks = (d->m + ch->mr - 1) / ch->mr, nblocks = (d->n + nr - 1) / nr;
    size_t b_len = nblocks * nr * (d->k ? d->k : 1);
    if (!fits_u32(d, b_len))
        return clae_fail(&ctx->err,
                         "GEMM %zux%zux%zu is too large for the own kernels' 32-bit indices", d->m,
                         d->n, d->k);
    if (ensure_scratch(ctx, b_len * sizeof(float))) return -1;
    cl_mem panel = ctx->gemm->scratch;
    if (d->k > 0 && pack_b(ctx, d, nr, panel)) return -1;
    const clae_tensor *a = d->a;
    size_t lda = d->lda;
    clae_karg args[] = {KARG_MEM(clae_buf(a)),
                        KARG_U32(a->off),
                        KARG_U32(d->a_taps    ? 0
                                 : d->trans_a ? 1
                                              : lda), /* row stride (taps: gemm_a_row) */
                        KARG_U32(d->a_taps || d->trans_a ? lda : 1), /* k stride */
                        KARG_U32(d->a_kcols ? d->a_kcols : UINT32_MAX),
                        KARG_U32(d->a_kimg),
                        KARG_U32(d->a_kcols2 ? d->a_kcols2 : UINT32_MAX),
                        KARG_U32(d->a_kimg2),
                        KARG_U32(d->a_taps ? d->a_taps->kh : 0),
                        KARG_U32(d->a_taps ? d->a_taps->kw : 0),
                        KARG_U32(d->a_plane),
                        KARG_U32(d->a_taps ? d->a_taps->dh * d->a_row : 0),
                        KARG_U32(d->a_taps ? d->a_taps->dw : 0),
                        KARG_MEM(panel),
                        KARG_U32(0),
                        KARG_U32(d->k),
                        KARG_MEM(clae_buf(d->c)),
                        KARG_U32(d->c->off),
                        KARG_U32(d->ldc),
                        KARG_U32(d->c_cols ? d->c_cols : d->n),
                        KARG_U32(d->c_img),
                        KARG_U32(d->m),
                        KARG_U32(d->n),
                        KARG_F32(d->alpha),
                        KARG_F32(d->beta),
                        d->bias ? KARG_MEM(clae_buf(d->bias)) : KARG_NULL,
                        KARG_U32(d->bias ? d->bias->off : 0),
                        KARG_U32(d->bias_per_col),
                        KARG_I32(d->act),
                        KARG_F32(d->slope)};
    return launch_tiles(ctx, ch, d, mblocks, nblocks, args, (int)(sizeof args / sizeof args[0]));
}

static int gemm_own(clae_ctx *ctx, const clae_gemm_choice *ch, bool trans_a, bool trans_b, size_t m,
                    size_t n, size_t k, float alpha, const clae_tensor *a, size_t lda,
                    const clae_tensor *b, size_t ldb, float beta, clae_tensor *c, size_t ldc)
{
    clae_gemm_desc d = {.trans_a = trans_a,
                        .trans_b = trans_b,
                        .m = m,
                        .n = n,
                        .k = k,
                        .alpha = alpha,
                        .beta = beta,
                        .a = a,
                        .lda = lda,
                        .b = b,
                        .ldb = ldb,
                        .c = c,
                        .ldc = ldc};
    return clae_gemm_run(ctx, ch, &d);
}

int clae_gemm_with(clae_ctx *ctx, const clae_gemm_choice *ch, bool trans_a, bool trans_b, size_t m,
                   size_t n, size_t k, float alpha, const clae_tensor *a, size_t lda,
                   const clae_tensor *b, size_t ldb, float beta, clae_tensor *c, size_t ldc)
{
    if (m == 0 || n == 0) return 0;
    if (ch->engine == CLAE_GEMM_OWN)
        return gemm_own(ctx, ch, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return gemm_clblast(ctx, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void clae_gemm_shape_key(char *out, size_t len, bool trans_a, bool trans_b, size_t m, size_t n,
                         size_t k)
{
    snprintf(out, len, "%c%c %zux%zux%zu", trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', m, n, k);
}

static void record_shape(clae_gemm_state *g, bool ta, bool tb, size_t m, size_t n, size_t k)
{
    for (int i = 0; i < g->n_seen; i++)
        if (g->seen[i].m == m && g->seen[i].n == n && g->seen[i].k == k && g->seen[i].ta == ta &&
            g->seen[i].tb == tb)
            return;
    if (g->n_seen < CLAE_MAX_TUNED) {
        g->seen[g->n_seen].m = m, g->seen[g->n_seen].n = n, g->seen[g->n_seen].k = k;
        g->seen[g->n_seen].ta = ta, g->seen[g->n_seen].tb = tb;
        g->n_seen++;
    }
}

const clae_gemm_choice *clae_gemm_choose(const clae_ctx *ctx, bool trans_a, bool trans_b, size_t m,
                                         size_t n, size_t k)
{
    const clae_gemm_state *g = ctx->gemm;
    if (!g->forced && g->n_tuned > 0) {
        char key[48];
        clae_gemm_shape_key(key, sizeof key, trans_a, trans_b, m, n, k);
        for (int i = 0; i < g->n_tuned; i++)
            if (strcmp(g->tuned[i].shape, key) == 0) return &g->tuned[i].choice;
    }
    return &g->fallback;
}

const clae_gemm_choice *clae_gemm_pick(clae_ctx *ctx, bool trans_a, bool trans_b, size_t m,
                                       size_t n, size_t k)
{
    if (ctx->gemm->recording) record_shape(ctx->gemm, trans_a, trans_b, m, n, k);
    return clae_gemm_choose(ctx, trans_a, trans_b, m, n, k);
}

int clae_gemm(clae_ctx *ctx, bool trans_a, bool trans_b, size_t m, size_t n, size_t k, float alpha,
              const clae_tensor *a, size_t lda, const clae_tensor *b, size_t ldb, float beta,
              clae_tensor *c, size_t ldc)
{
    return clae_gemm_with(ctx, clae_gemm_pick(ctx, trans_a, trans_b, m, n, k), trans_a, trans_b, m,
                          n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void clae_gemm_choice_name(const clae_gemm_choice *ch, char *out, size_t len)
{
    if (ch->engine == CLAE_GEMM_CLBLAST)
        snprintf(out, len, "clblast");
    else
        snprintf(out, len, "own:%dx%dx%d/%d", ch->mr, ch->nv, ch->w, ch->group);
}

/* The own kernel variants cl/gemm.cl instantiates (MR, NV, W). */
static const int own_variants[][3] = {{4, 1, 16}, {8, 1, 16}, {4, 2, 16}, {6, 2, 16},
                                      {8, 2, 16}, {4, 2, 8},  {6, 2, 8},  {8, 1, 8}};
#define N_OWN_VARIANTS (int)(sizeof own_variants / sizeof own_variants[0])

int clae_gemm_own_variant(int i, clae_gemm_choice *out)
{
    if (i < 0 || i >= N_OWN_VARIANTS) return -1;
    *out = (clae_gemm_choice){CLAE_GEMM_OWN, own_variants[i][0], own_variants[i][1],
                              own_variants[i][2], 4};
    return 0;
}

/* The own engine's default variant, measured best at most shapes on a 16-wide
 * (AVX-512) device, and CLBlast. */
static const clae_gemm_choice own_default = {CLAE_GEMM_OWN, 8, 2, 16, 4};
static const clae_gemm_choice clblast_choice = {CLAE_GEMM_CLBLAST, 0, 0, 0, 0};
/* Where vectors hold 8 floats in 16 registers (AVX2): 6 x 2 float8
 * accumulators, 2 B vectors and one broadcast A fit them (BLIS's haswell
 * shape); 8 x 2 float16 would need 64 and spill. */
static const clae_gemm_choice own_default_8 = {CLAE_GEMM_OWN, 6, 2, 8, 4};

const clae_gemm_choice *clae_gemm_own_for_device(const clae_device_info *d)
{
    return d->vector_floats >= 16 ? &own_default : &own_default_8;
}

/* "clblast" or "own[:MRxNVxW[/GROUP]]" */
int clae_gemm_parse_choice(const char *text, clae_gemm_choice *out)
{
    if (strcmp(text, "clblast") == 0) {
        *out = clblast_choice;
        return 0;
    }
    if (strncmp(text, "own", 3) != 0) return -1;
    clae_gemm_choice ch = own_default;
    if (text[3] == ':') {
        char tail;
        int got = sscanf(text + 4, "%dx%dx%d/%d%c", &ch.mr, &ch.nv, &ch.w, &ch.group, &tail);
        if (got != 3 && got != 4) return -1;
    } else if (text[3] != 0) {
        return -1;
    }
    for (int i = 0; i < N_OWN_VARIANTS; i++)
        if (own_variants[i][0] == ch.mr && own_variants[i][1] == ch.nv &&
            own_variants[i][2] == ch.w && ch.group > 0) {
            *out = ch;
            return 0;
        }
    return -1;
}

/* Defaults before any tuning: the own kernels on CPU devices, where they were
 * measured to beat untuned CLBlast (see README "Speed"); CLBlast elsewhere. */
int clae_gemm_open(clae_ctx *ctx, const clae_gemm_opts *o, clae_err *err)
{
    clae_gemm_state *g = calloc(1, sizeof *g);
    if (!g) return clae_fail(err, "out of host memory");
    ctx->gemm = g;
    g->fallback = ctx->dev.kind == CLAE_DEV_CPU ? *clae_gemm_own_for_device(&ctx->dev)
                                                : clblast_choice;
    snprintf(g->source, sizeof g->source, "defaults");
    const char *force = o ? o->force : NULL;
    if (force && *force) {
        if (clae_gemm_parse_choice(force, &g->fallback)) {
            clae_gemm_close(ctx);
            return clae_fail(
                err,
                "CLAE_GEMM=%s: expected 'clblast', 'own' or 'own:MRxNVxW[/GROUP]' with a variant "
                "cl/gemm.cl builds (e.g. own:8x2x16/4)",
                force);
        }
        if (strcmp(force, "own") == 0) g->fallback = *clae_gemm_own_for_device(&ctx->dev);
        g->forced = true;
        snprintf(g->source, sizeof g->source, "CLAE_GEMM=%s", force);
    }
    if (g->forced || (o && o->no_tuning)) return 0;
    if (clae_tuning_load(ctx)) {
        *err = ctx->err;
        clae_gemm_close(ctx);
        return -1;
    }
    return 0;
}

void clae_gemm_close(clae_ctx *ctx)
{
    clae_gemm_state *g = ctx->gemm;
    if (!g) return;
    if (g->scratch) clReleaseMemObject(g->scratch);
    for (int i = 0; i < 2; i++)
        if (g->operand[i]) clReleaseMemObject(g->operand[i]);
    free(g);
    ctx->gemm = NULL;
}

const clae_gemm_choice *clae_gemm_default(const clae_ctx *ctx) { return &ctx->gemm->fallback; }

int clae_device_open(clae_ctx *ctx, const clae_device_opts *o, clae_err *err)
{
    if (clae_ctx_open(ctx, &o->ctx, err)) return -1;
    if (clae_gemm_open(ctx, &o->gemm, err)) {
        clae_ctx_release(ctx);
        return -1;
    }
    return 0;
}

void clae_device_close(clae_ctx *ctx)
{
    clae_gemm_close(ctx);
    clae_ctx_release(ctx);
}
