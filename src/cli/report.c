/* clae train's pictures at the end of a run ([report]): the run's model is
 * loaded alone from its checkpoint, as the commands load it, and the same
 * commands' writers run on it, so a report equals `clae latent-map RUN`,
 * `clae weights RUN` and `clae features RUN` run afterwards. */
#include <stdio.h>
#include <string.h>

#include "report.h"

static bool has_conv(const clae_config *cfg)
{
    for (int i = 0; i < cfg->n_layers; i++)
        if (clae_spec_is_conv(&cfg->layers[i])) return true;
    return false;
}

typedef struct {
    const clae_report_cfg *r;
    bool map, weights, features;
} report_plan;

static int run_plan(clae_ctx *ctx, clae_saved_model *s, const clae_cli_opts *o,
                    const report_plan *p, clae_err *err)
{
    if (p->map && report_latent_map(ctx, s, o, err)) /* the run is complete: say why, go on */
        fprintf(stderr, "clae: no latent map: %s\n", err->msg);
    if (p->weights && report_weights(ctx, s, o, err)) return -1;
    if (p->features && report_features(ctx, s, o, err)) return -1;
    return 0;
}

int report_after_training(clae_ctx *ctx, const char *run_dir, const clae_config *cfg,
                          uint32_t test_images, bool labelled, clae_err *err)
{
    const clae_report_cfg *r = &cfg->report;
    report_plan p = {r,
                     r->latent_map == CLAE_SWITCH_TRUE ||
                         (r->latent_map == CLAE_SWITCH_AUTO && labelled && test_images >= 4 &&
                          test_images <= (uint32_t)r->map_points),
                     r->weights,
                     r->features == CLAE_SWITCH_TRUE ||
                         (r->features == CLAE_SWITCH_AUTO && has_conv(cfg))};
    if (!p.map && !p.weights && !p.features) return 0;
    clae_cli_opts o;
    memset(&o, 0, sizeof o);
    o.positional = run_dir;
    clae_saved_model s;
    if (run_load_model(ctx, &o, &s, err)) return -1;
    printf("report ([report] in the config):\n");
    int rc = run_plan(ctx, &s, &o, &p, err);
    clae_saved_model_release(&s);
    return rc;
}
