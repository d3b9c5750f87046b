/* clae features RUN [IMAGE]: every convolution's feature maps for one image
 * (the first test image by default), a grid per layer, each map stretched
 * to [0, 1] on its own. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "report.h"

/* maps (c, h, w) of one image, each normalised alone, as rows of 8 gray images */
static int write_maps(const char *path, float *maps, clae_shape s, clae_err *err)
{
    size_t plane = (size_t)s.h * s.w;
    for (int c = 0; c < s.c; c++) {
        float *m = maps + (size_t)c * plane, lo = INFINITY, hi = -INFINITY;
        for (size_t k = 0; k < plane; k++) lo = fminf(lo, m[k]), hi = fmaxf(hi, m[k]);
        for (size_t k = 0; k < plane; k++) m[k] = hi > lo ? (m[k] - lo) / (hi - lo) : 0.0f;
    }
    clae_shape one = {1, 1, s.h, s.w};
    return run_write_images(path, maps, (size_t)s.c, one, err);
}

int report_features(clae_ctx *ctx, clae_saved_model *s, const clae_cli_opts *o, clae_err *err)
{
    clae_data d;
    if (run_open_data(ctx, s, &d, err)) return -1;
    clae_model *m = &s->model;
    size_t sample = clae_shape_sample(m->input);
    float *img = malloc(sample * sizeof *img);
    char what[600];
    int rc = img ? run_image_ref(s, &d, o->n_more ? o->more[0] : "test:0", img, what, sizeof what,
                                 err)
                 : clae_fail(err, "out of host memory");
    clae_tensor x = clae_rows(clae_model_input(m), 1);
    if (rc == 0 && (clae_tensor_write(ctx, &x, img, sample) ||
                    clae_model_forward_range(m, ctx, 0, clae_model_output_index(m), 1, false)))
        rc = -1, *err = ctx->err;
    int written = 0;
    for (int i = 0; rc == 0 && i < m->n_main; i++) {
        const clae_layer *l = &m->layers[i];
        if (!clae_spec_is_conv(&l->spec)) continue;
        size_t n = clae_shape_sample(l->out);
        float *maps = malloc(n * sizeof *maps);
        char png[1100], name[200];
        snprintf(name, sizeof name, "%s.png", l->spec.section);
        clae_tensor y = clae_rows(&m->y[i], 1);
        if (!maps)
            rc = clae_fail(err, "out of host memory");
        else if (clae_tensor_read(ctx, &y, maps, n))
            rc = -1, *err = ctx->err;
        else if ((rc = run_output(o, "features", name, png, sizeof png, err)) == 0)
            rc = write_maps(png, maps, l->out, err);
        if (rc == 0)
            printf("wrote %s (%d map%s of %dx%d)\n", png, l->out.c, l->out.c == 1 ? "" : "s",
                   l->out.h, l->out.w),
                written++;
        free(maps);
    }
    if (rc == 0 && written == 0)
        rc = clae_fail(err, "%s: the model has no conv or conv_transpose layer", s->checkpoint);
    if (rc == 0) printf("feature maps of %s\n", what);
    free(img);
    clae_data_close(&d);
    return rc ? -1 : 0;
}

int cmd_features(int argc, char **argv)
{
    clae_cli_opts o;
    clae_err err;
    if (clae_cli_parse_n(argc, argv, 2, 2, &o, &err)) return clae_cli_error(&err);
    if (o.help || !o.positional) {
        printf(
            "usage: clae features RUN [IMAGE] [--best] [--device SPEC]\n"
            "  every conv and conv_transpose layer's feature maps for one image (default test:0),\n"
            "  one grid per layer, each map stretched to [0, 1] (RUN/features/LAYER.png)\n");
        return o.help ? 0 : 2;
    }
    if (o.out)
        return clae_cli_error(&(clae_err){"features writes one PNG per layer: -o is not taken"});
    return run_with_model(&o, report_features, &err) ? clae_cli_error(&err) : 0;
}
