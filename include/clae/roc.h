/* Ranking metrics of scores against binary truth (anomaly detection, link
 * prediction): ROC AUC, average precision, the ROC curve. Higher scores mean
 * "positive". Ties are handled as scikit-learn's roc_auc_score and
 * average_precision_score do: equal scores form one threshold. */
#ifndef CLAE_ROC_H
#define CLAE_ROC_H

#include <stdbool.h>
#include <stddef.h>

#include "clae/error.h"

typedef struct {
    double auc, ap;
    size_t positives, negatives;
    /* the ROC curve: n_points (false positive rate, true positive rate), (0,0) first */
    double *fpr, *tpr;
    size_t n_points;
} clae_roc;

/* NaN scores are an error (err names the first); both classes must be present. */
int clae_roc_compute(const double *score, const bool *positive, size_t n, clae_roc *out,
                     clae_err *err);
void clae_roc_free(clae_roc *r);

#endif
