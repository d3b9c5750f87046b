/* ckpt_compare A B TOL: whether two checkpoints of the same model hold the same
 * parameters and optimizer state up to TOL, each value against
 * TOL * max(1, |value of B|). Prints the worst difference and where; exits 0
 * when within, 1 when not, 2 when a file cannot be read or the models differ.
 * The data-parallel tests use it to compare N ranks with one. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "clae/io.h"

typedef struct {
    double worst; /* |a - b| / max(1, |b|) */
    size_t at;
} diff;

static diff compare(const float *a, const float *b, size_t n)
{
    diff d = {0, 0};
    for (size_t i = 0; i < n; i++) {
        double r = fabs((double)a[i] - b[i]) / fmax(1.0, fabs((double)b[i]));
        if (!(r <= d.worst)) d = (diff){r, i}; /* NaN counts as worst */
    }
    return d;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: ckpt_compare A.bin B.bin TOL\n");
        return 2;
    }
    clae_ckpt_meta ma, mb;
    clae_ckpt_data da, db;
    clae_err err;
    if (clae_ckpt_load(argv[1], &ma, &da, &err) || clae_ckpt_load(argv[2], &mb, &db, &err)) {
        fprintf(stderr, "ckpt_compare: %s\n", err.msg);
        return 2;
    }
    if (ma.model_signature != mb.model_signature || ma.n_params != mb.n_params ||
        ma.n_state != mb.n_state || ma.n_layer_state != mb.n_layer_state) {
        fprintf(stderr, "ckpt_compare: %s and %s hold different models\n", argv[1], argv[2]);
        return 2;
    }
    double tol = atof(argv[3]);
    diff p = compare(da.params, db.params, ma.n_params);
    diff o = compare(da.optim, db.optim, ma.n_params * ma.n_state);
    diff l = compare(da.layer, db.layer, ma.n_layer_state);
    printf("parameters: worst %.3g at %zu; optimizer state: worst %.3g; layer state: worst %.3g; "
           "steps %lld and %lld\n",
           p.worst, p.at, o.worst, l.worst, (long long)ma.optim_step, (long long)mb.optim_step);
    int rc = p.worst <= tol && l.worst <= tol && ma.optim_step == mb.optim_step ? 0 : 1;
    clae_ckpt_data_free(&da);
    clae_ckpt_data_free(&db);
    return rc;
}
