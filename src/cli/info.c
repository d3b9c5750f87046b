/* clae info RUN: the loaded model's layers (section, type, output shape,
 * parameters, forward FLOPs per sample), totals, and where it came from;
 * --json for the same as one object. */
#include <stdio.h>

#include "cli.h"
#include "run.h"

static void print_table(const clae_saved_model *s, const clae_ctx *ctx)
{
    const clae_model *m = &s->model;
    double total = 0;
    printf("%-24s %-15s %-14s %12s %14s\n", "layer", "type", "output", "parameters",
           "FLOPs/sample");
    printf("%-24s %-15s %4dx%4dx%-4d %12s %14s\n", "(input)", "", m->input.c, m->input.h,
           m->input.w, "", "");
    for (int i = 0; i < m->n_layers; i++) {
        const clae_layer *l = &m->layers[i];
        double f = clae_layer_flops(l);
        total += f;
        printf("%-24s %-15s %4dx%4dx%-4d %12zu %14.0f%s\n", l->spec.section,
               clae_layer_type_name(&l->spec), l->out.c, l->out.h, l->out.w, l->n_params, f,
               i == m->latent_index ? "  <- code" : "");
    }
    printf("total: %d layers, %zu parameters, %.0f forward FLOPs per sample, %.0f per training "
           "step and "
           "sample\n",
           m->n_layers, m->n_params, total, clae_model_train_flops(m));
    printf("checkpoint %s (epoch %d, step %lld) on %s\n", s->checkpoint, s->meta.epoch,
           (long long)s->meta.optim_step, ctx->dev.name);
}

static void print_json(const clae_saved_model *s, const clae_ctx *ctx)
{
    const clae_model *m = &s->model;
    printf("{\"checkpoint\": ");
    clae_json_string(stdout, s->checkpoint);
    printf(", \"epoch\": %d, \"step\": %lld, \"device\": ", s->meta.epoch,
           (long long)s->meta.optim_step);
    clae_json_string(stdout, ctx->dev.name);
    printf(", \"input\": [%d, %d, %d], \"layers\": [", m->input.c, m->input.h, m->input.w);
    for (int i = 0; i < m->n_layers; i++) {
        const clae_layer *l = &m->layers[i];
        printf("%s\n  {\"section\": ", i ? "," : "");
        clae_json_string(stdout, l->spec.section);
        printf(", \"type\": \"%s\", \"output\": [%d, %d, %d], \"parameters\": %zu, "
               "\"flops_per_sample\": %.0f, "
               "\"code\": %s}",
               clae_layer_type_name(&l->spec), l->out.c, l->out.h, l->out.w, l->n_params,
               clae_layer_flops(l), i == m->latent_index ? "true" : "false");
    }
    printf("\n], \"parameters\": %zu, \"train_flops_per_sample\": %.0f}\n", m->n_params,
           clae_model_train_flops(m));
}

int cmd_info(int argc, char **argv)
{
    clae_cli_opts o;
    clae_err err;
    if (clae_cli_parse(argc, argv, 2, &o, &err)) return clae_cli_error(&err);
    if (o.help || !o.positional) {
        printf("usage: clae info RUN [--json] [--best] [--device SPEC]\n"
               "  one row per layer: section, type, output shape, parameters, forward FLOPs per\n"
               "  sample; totals; the checkpoint and device (--json: one object on stdout)\n");
        return o.help ? 0 : 2;
    }
    bool json = o.json != NULL;
    clae_ctx ctx;
    clae_saved_model s;
    if (clae_device_open(&ctx, &o.dev, &err)) return clae_cli_error(&err);
    int rc = run_load_model(&ctx, &o, &s, &err);
    if (rc == 0) {
        if (json)
            print_json(&s, &ctx);
        else
            print_table(&s, &ctx);
        clae_saved_model_release(&s);
    }
    clae_device_close(&ctx);
    return rc ? clae_cli_error(&err) : 0;
}
