/* ROC AUC and average precision by one sort of the scores, descending: each
 * run of equal scores is one threshold, so ties give the trapezoid (AUC) and
 * one precision step (AP), as scikit-learn computes them. */
#include <math.h>
#include <stdlib.h>

#include "clae/roc.h"

typedef struct {
    double score;
    bool positive;
} scored;

static int by_score_desc(const void *a, const void *b)
{
    double x = ((const scored *)a)->score, y = ((const scored *)b)->score;
    return (x < y) - (x > y);
}

int clae_roc_compute(const double *score, const bool *positive, size_t n, clae_roc *out,
                     clae_err *err)
{
    *out = (clae_roc){0};
    for (size_t i = 0; i < n; i++) {
        if (isnan(score[i])) return clae_fail(err, "score %zu is NaN", i);
        out->positives += positive[i];
    }
    out->negatives = n - out->positives;
    if (!out->positives || !out->negatives)
        return clae_fail(err, "ROC of %zu positives and %zu negatives: both are needed",
                         out->positives, out->negatives);
    scored *s = malloc(n * sizeof *s);
    out->fpr = malloc((n + 1) * sizeof(double));
    out->tpr = malloc((n + 1) * sizeof(double));
    if (!s || !out->fpr || !out->tpr) {
        free(s);
        clae_roc_free(out);
        return clae_fail(err, "out of host memory for %zu scores", n);
    }
    for (size_t i = 0; i < n; i++) s[i] = (scored){score[i], positive[i]};
    qsort(s, n, sizeof *s, by_score_desc);
    double P = (double)out->positives, N = (double)out->negatives;
    size_t tp = 0, fp = 0, k = 0;
    out->fpr[k] = out->tpr[k] = 0, k++;
    double auc = 0, ap = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i, tp0 = tp, fp0 = fp;
        for (; j < n && s[j].score == s[i].score; j++) tp += s[j].positive, fp += !s[j].positive;
        auc += (double)(fp - fp0) * (double)(tp + tp0) / 2.0; /* trapezoid over the tie */
        ap += (double)(tp - tp0) / P * ((double)tp / (double)(tp + fp));
        out->fpr[k] = (double)fp / N, out->tpr[k] = (double)tp / P, k++;
        i = j;
    }
    out->n_points = k;
    out->auc = auc / (P * N);
    out->ap = ap;
    free(s);
    return 0;
}

void clae_roc_free(clae_roc *r)
{
    free(r->fpr);
    free(r->tpr);
    r->fpr = r->tpr = NULL;
}
