/* clae weights RUN: per layer with parameters, a histogram of its weights
 * and of its biases (SVG, as densities over 40 bins), and their count, mean,
 * standard deviation, minimum and maximum in weights.csv. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "report.h"

#define BINS 40

typedef struct {
    double mean, std, min, max;
} value_stats;

static value_stats stats_of(const float *v, size_t n)
{
    value_stats s = {0, 0, INFINITY, -INFINITY};
    for (size_t i = 0; i < n; i++) {
        s.mean += v[i];
        s.min = fmin(s.min, v[i]);
        s.max = fmax(s.max, v[i]);
    }
    s.mean /= (double)n;
    for (size_t i = 0; i < n; i++) s.std += ((double)v[i] - s.mean) * ((double)v[i] - s.mean);
    s.std = sqrt(s.std / (double)n);
    return s;
}

/* bin centres x and densities y (count / (n * width)) over [min, max] */
static void histogram(const float *v, size_t n, value_stats s, double *x, double *y)
{
    double lo = s.min, width = s.max > s.min ? (s.max - s.min) / BINS : 1.0;
    for (int b = 0; b < BINS; b++) x[b] = lo + (b + 0.5) * width, y[b] = 0;
    for (size_t i = 0; i < n; i++) {
        int b = (int)((v[i] - lo) / width);
        y[b < 0 ? 0 : b >= BINS ? BINS - 1 : b] += 1.0 / ((double)n * width);
    }
}

/* One layer's tensor (w or b) read back, its stats in the CSV, its histogram in series. */
static int one_tensor(clae_ctx *ctx, const clae_layer *l, const clae_tensor *t, size_t n,
                      const char *name, FILE *csv, double *x, double *y, clae_series *series,
                      clae_err *err)
{
    float *v = malloc(n * sizeof *v);
    if (!v) return clae_fail(err, "out of host memory");
    clae_tensor view = *t;
    if (clae_tensor_read(ctx, &view, v, n)) {
        free(v);
        return *err = ctx->err, -1;
    }
    value_stats s = stats_of(v, n);
    fprintf(csv, "%s,%s,%zu,%.8g,%.8g,%.8g,%.8g\n", l->spec.section, name, n, s.mean, s.std, s.min,
            s.max);
    histogram(v, n, s, x, y);
    *series = (clae_series){name, name[0] == 'w' ? "#1f77b4" : "#d62728", x, y, BINS};
    free(v);
    return 0;
}

int report_weights(clae_ctx *ctx, clae_saved_model *s, const clae_cli_opts *o, clae_err *err)
{
    char csv_path[1100], dir[1100];
    if (run_output(o, "weights", "weights.csv", csv_path, sizeof csv_path, err)) return -1;
    snprintf(dir, sizeof dir, "%.*s",
             (int)(strrchr(csv_path, '/') ? strrchr(csv_path, '/') - csv_path : 1),
             strrchr(csv_path, '/') ? csv_path : ".");
    clae_afile a;
    if (clae_afile_open(&a, csv_path, err)) return -1;
    fprintf(a.f, "layer,tensor,count,mean,std,min,max\n");
    int rc = 0, plots = 0;
    for (int i = 0; rc == 0 && i < s->model.n_layers; i++) {
        const clae_layer *l = &s->model.layers[i];
        if (!l->n_params) continue;
        double x[2][BINS], y[2][BINS];
        clae_series series[2];
        int n = 0;
        if (l->n_w)
            rc = one_tensor(ctx, l, &l->w, l->n_w, "weights", a.f, x[n], y[n], &series[n], err),
            n++;
        if (rc == 0 && l->n_b)
            rc = one_tensor(ctx, l, &l->b, l->n_b, "biases", a.f, x[n], y[n], &series[n], err), n++;
        char svg[1300], title[200];
        snprintf(svg, sizeof svg, "%s/%s.svg", dir, l->spec.section);
        snprintf(title, sizeof title, "[%s] %s: %zu parameters", l->spec.section,
                 clae_layer_type_name(&l->spec), l->n_params);
        if (rc == 0) rc = clae_svg_plot(svg, title, "value", "density", series, n, err);
        plots += rc == 0;
    }
    if (rc) {
        clae_afile_abort(&a);
        return -1;
    }
    if (clae_afile_commit(&a, err)) return -1;
    printf("wrote %s and %d histograms (LAYER.svg) beside it\n", csv_path, plots);
    return 0;
}

int cmd_weights(int argc, char **argv)
{
    return run_model_command(
        argc, argv, 1,
        "usage: clae weights RUN [-o STATS.csv] [--best] [--device SPEC]\n"
        "  per layer with parameters: a histogram of its weights and biases (LAYER.svg) and "
        "their\n"
        "  count, mean, std, min and max (default RUN/weights/weights.csv)\n",
        report_weights);
}
