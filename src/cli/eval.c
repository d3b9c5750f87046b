/* clae eval RUN: recomputes test metrics from a run's checkpoint and config:
 * the model loaded alone, the run's data and objective, no optimizer. */
#include <stdio.h>
#include <string.h>

#include "clae/model_file.h"
#include "cli.h"
#include "run.h"

/* Prints the metrics and writes RUN/eval.json. */
static int write_eval(const run_paths *rp, const clae_saved_model *s, const clae_metrics *m,
                      clae_err *err)
{
    printf("checkpoint %s (epoch %d)\n", s->checkpoint, s->meta.epoch);
    clae_metrics_print_test(stdout, m);
    clae_afile a;
    if (clae_afile_open(&a, rp->eval_json, err)) return -1;
    fprintf(a.f, "{\"checkpoint\": ");
    clae_json_string(a.f, s->checkpoint);
    fprintf(a.f, ", \"epoch\": %d, \"test\": ", s->meta.epoch);
    clae_metrics_write_json(a.f, m);
    fprintf(a.f, "}\n");
    return clae_afile_commit(&a, err);
}

/* The test split of the run's data through the loaded model. */
static int evaluate_saved(clae_ctx *ctx, clae_saved_model *s, const run_paths *rp, clae_err *err)
{
    clae_data data;
    clae_objective obj;
    clae_metrics m;
    if (run_open_data(ctx, s, &data, err)) return -1;
    int rc = -1;
    if (clae_objective_open(&obj, ctx, &s->cfg, &s->model, err) == 0) {
        if (clae_evaluate(&s->model, &obj, &data, CLAE_SPLIT_TEST, &m) == 0)
            rc = write_eval(rp, s, &m, err);
        else
            *err = ctx->err;
        clae_objective_close(&obj);
    }
    clae_data_close(&data);
    return rc;
}

int cmd_eval(int argc, char **argv)
{
    clae_cli_opts o;
    clae_err err;
    if (clae_cli_parse(argc, argv, 2, &o, &err)) return clae_cli_error(&err);
    if (o.help || !o.positional) {
        printf("usage: clae eval RUN [--best] [--device SPEC] [--set section.key=value]...\n  "
               "test-set metrics of "
               "RUN's last (or best) checkpoint; also written to RUN/eval.json\n");
        return o.help ? 0 : 2;
    }
    run_paths rp;
    run_set_paths(&rp, o.positional);
    clae_ctx ctx;
    clae_saved_model s;
    int rc = -1;
    if (clae_device_open(&ctx, &o.dev, &err) == 0) {
        run_print_device(&ctx);
        if (run_load_model(&ctx, &o, &s, &err) == 0) {
            rc = evaluate_saved(&ctx, &s, &rp, &err);
            clae_saved_model_release(&s);
        }
        clae_device_close(&ctx);
    }
    return rc ? clae_cli_error(&err) : 0;
}
