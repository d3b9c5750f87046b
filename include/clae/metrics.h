/* The metrics of a run, in one table: every report (the epoch line, the test
 * line, metrics.csv, summary.json and eval.json) iterates it, so a metric is
 * named, formatted and placed once. The objective's terms fill the values;
 * a value a run does not have stays NaN. */
#ifndef CLAE_METRICS_H
#define CLAE_METRICS_H

#include <stdint.h>
#include <stdio.h>

/* id, test JSON key, metrics.csv train and validation columns (NULL: none,
 * written in table order; a missing value is written as 0), the CSV format,
 * the epoch line's format (train, validation), the test line's format and the
 * factor its value is shown with. lr and seconds are the run's, not a term's. */
#define CLAE_METRIC_LIST(X)                                                                        \
    X(LOSS, NULL, "train_loss", "val_loss", "%.8g", ": train loss %.6f, val loss %.6f", NULL, 1)   \
    X(MSE, "mse", NULL, "val_mse", "%.8g", " (mse %.6f", ": mse %.6f", 1)                          \
    X(BCE, "bce", NULL, "val_bce", "%.8g", ", bce %.6f)", ", bce %.6f", 1)                         \
    X(NOISY_MSE, "noisy_input_mse", NULL, NULL, NULL, NULL, " (the noisy input itself: mse %.6f)", \
      1)                                                                                           \
    X(LR, NULL, "lr", NULL, "%.6g", NULL, NULL, 1)                                                 \
    X(SECONDS, NULL, "seconds", NULL, "%.3f", NULL, NULL, 1)                                       \
    X(KL, "kl", "train_kl", "val_kl", "%.8g", ", KL train %.4f val %.4f", ", KL %.4f per sample",  \
      1)                                                                                           \
    X(PSNR, "psnr_db", NULL, NULL, NULL, NULL, ", PSNR %.2f dB", 1)                                \
    X(SSIM, "ssim", NULL, NULL, NULL, NULL, ", SSIM %.4f", 1)                                      \
    X(CE, "cross_entropy", "train_ce", "val_ce", "%.8g", NULL, NULL, 1)                            \
    X(ACCURACY, "accuracy", "train_acc", "val_acc", "%.6g", ", accuracy train %.4f val %.4f",      \
      ", accuracy %.4f", 1)                                                                        \
    X(PENALTY, NULL, "train_penalty", NULL, "%.8g", ", sparsity penalty %.5f", NULL, 1)            \
    X(CODE_MEAN, "code_mean", NULL, "val_code_mean", "%.6g", NULL, "; code: mean %.4f", 1)         \
    X(CODE_ZERO, "code_zero_fraction", NULL, "val_code_zero", "%.6g", NULL, ", %.1f%% near zero",  \
      100)                                                                                         \
    X(RAW_BITS_PER_PIXEL, "raw_bits_per_pixel", NULL, NULL, NULL, NULL, NULL, 1)                   \
    X(RATE, "rate_bpp", "train_rate", "val_rate", "%.6g", ", rate train %.3f val %.3f bpp",        \
      ", rate %.3f bpp (model)", 1)                                                                \
    X(AUC, "auc", NULL, "val_auc", "%.6g", ", val AUC %.4f", ", AUC %.4f", 1)                      \
    X(AP, "ap", NULL, "val_ap", "%.6g", " AP %.4f", ", AP %.4f", 1)

/* clang-format off */
typedef enum {
#define CLAE_METRIC_ID(id, json, train_col, val_col, csv, epoch, test, factor) CLAE_METRIC_##id,
    CLAE_METRIC_LIST(CLAE_METRIC_ID)
#undef CLAE_METRIC_ID
    CLAE_N_METRICS
} clae_metric_id;
/* clang-format on */

/* One evaluation (or one training epoch): NaN where a metric does not apply. */
typedef struct {
    double v[CLAE_N_METRICS];
    uint32_t n;                /* samples */
    const uint32_t *confusion; /* classifier, test split: classes x classes [label][prediction] */
    int classes;
} clae_metrics;

/* All NaN, n = 0, no confusion matrix. */
void clae_metrics_clear(clae_metrics *m);

/* metrics.csv: the header, and one row (epoch, step, then the table's columns). */
void clae_metrics_csv_header(FILE *f);
void clae_metrics_csv_row(FILE *f, int epoch, long step, const clae_metrics *train,
                          const clae_metrics *val);
/* The epoch line's metrics: ": train loss ..., val loss ... (mse ..., bce ...), KL ..." */
void clae_metrics_print_epoch(FILE *f, const clae_metrics *train, const clae_metrics *val);
/* "test: N images: mse ..., bce ..., KL ...; code: ..." */
void clae_metrics_print_test(FILE *f, const clae_metrics *test);
/* {"images": N, "mse": ..., ...}: finite values only, the confusion matrix last. */
void clae_metrics_write_json(FILE *f, const clae_metrics *test);

#endif
