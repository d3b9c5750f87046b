/* clae sample RUN: a VAE's images decoded from its prior N(0, T^2 I), as a
 * grid, with the drawn codes as .npy (clae decode turns them into the same
 * images). A plain autoencoder is refused with why. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "run.h"

static int sample_run(clae_ctx *ctx, clae_saved_model *s, int n, double temperature,
                      const clae_cli_opts *o, clae_err *err)
{
    clae_model *m = &s->model;
    if (!clae_model_vae(m))
        return clae_fail(
            err,
            "%s: the model has no [latent.NAME] type = vae layer: a plain autoencoder's codes "
            "have no prior to sample from (decode chosen codes with clae decode)",
            s->checkpoint);
    size_t u = clae_shape_sample(clae_model_code(m)->shape), sample = clae_shape_sample(m->input);
    float *z = malloc((size_t)n * u * sizeof *z),
          *images = malloc((size_t)n * sample * sizeof *images);
    char png[1100], npy[1100];
    int rc = z && images ? 0 : clae_fail(err, "out of host memory for %d samples", n);
    if (rc == 0 &&
        clae_sample_prior(m, ctx, (uint64_t)s->cfg.train.seed, temperature, n, z, images))
        rc = -1, *err = ctx->err;
    if (rc == 0) rc = run_output(o, "sample", "samples.png", png, sizeof png, err);
    run_sibling(png, "_z.npy", npy, sizeof npy);
    if (rc == 0)
        rc = run_write_images(png, images, (size_t)n, m->input, err) ||
             clae_npy_write(npy, z, (size_t)n, u, err);
    if (rc == 0)
        printf("wrote %s (%d samples at temperature %g) and their codes %s\n", png, n, temperature,
               npy);
    free(z);
    free(images);
    return rc ? -1 : 0;
}

/* run_with_model's shape: --n and --temperature (checked before) again */
static int sample_cb(clae_ctx *ctx, clae_saved_model *s, const clae_cli_opts *o, clae_err *err)
{
    double n, temperature;
    if (clae_cli_number("--n", o->n, 64, &n, err) ||
        clae_cli_number("--temperature", o->temperature, 1, &temperature, err))
        return -1;
    return sample_run(ctx, s, (int)n, temperature, o, err);
}

int cmd_sample(int argc, char **argv)
{
    clae_cli_opts o;
    clae_err err;
    double n, temperature;
    if (clae_cli_parse(argc, argv, 2, &o, &err)) return clae_cli_error(&err);
    if (o.help || !o.positional) {
        printf("usage: clae sample RUN [--n 64] [--temperature 1] [-o SAMPLES.png] [--best] "
               "[--device SPEC]\n"
               "  a VAE's images decoded from its prior N(0, T^2 I), drawn from the run's seed, 8 "
               "a row\n"
               "  (default RUN/sample/samples.png), the codes beside it as SAMPLES_z.npy\n");
        return o.help ? 0 : 2;
    }
    if (clae_cli_number("--n", o.n, 64, &n, &err) ||
        clae_cli_number("--temperature", o.temperature, 1, &temperature, &err))
        return clae_cli_error(&err);
    if (n != (int)n || n > 100000)
        return clae_cli_error(
            &(clae_err){"--n: expected a whole number of samples from 1 to 100000"});
    return run_with_model(&o, sample_cb, &err) ? clae_cli_error(&err) : 0;
}
