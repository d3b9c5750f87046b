/* The one GEMM every layer uses: CLBlast, row-major, on the context's queue.
 * CLBlast compiles each routine on first use per context and keeps it in
 * memory only, so the first call is slow (reported apart from training time). */
#include <clblast_c.h>
#include <stdio.h>

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

int clae_gemm(clae_ctx *ctx, bool trans_a, bool trans_b, size_t m, size_t n, size_t k, float alpha,
              const clae_tensor *a, size_t lda, const clae_tensor *b, size_t ldb, float beta, clae_tensor *c,
              size_t ldc)
{
    if (m == 0 || n == 0) return 0;
    cl_event ev = NULL;
    CLBlastStatusCode s = CLBlastSgemm(CLBlastLayoutRowMajor, trans_a ? CLBlastTransposeYes : CLBlastTransposeNo,
                                       trans_b ? CLBlastTransposeYes : CLBlastTransposeNo, m, n, k, alpha,
                                       clae_buf(a), a->off, lda, clae_buf(b), b->off, ldb, beta, clae_buf(c), c->off,
                                       ldc, &ctx->queue, ctx->profiling ? &ev : NULL);
    if (s != CLBlastSuccess)
        return clae_fail(&ctx->err, "CLBlastSgemm(%c%c, m=%zu n=%zu k=%zu) failed: %s (%d)", trans_a ? 'T' : 'N',
                         trans_b ? 'T' : 'N', m, n, k, clae_clblast_status_name(s), (int)s);
    if (ev) {
        char name[64];
        snprintf(name, sizeof name, "sgemm %c%c %zux%zux%zu", trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', m, n, k);
        clae_profile_event(ctx, name, ev);
    }
    return 0;
}
