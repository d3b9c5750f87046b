/* clae eval RUN: recomputes test metrics from a run's checkpoint and config. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "run.h"

/* Prints the metrics and writes RUN/eval.json (the confusion matrix lives in the trainer). */
static int write_eval(const run_paths *rp, const clae_trainer *t, const clae_metrics *m, const char *ckpt,
                      clae_err *err)
{
    printf("checkpoint %s (epoch %d)\n", ckpt, t->epoch);
    run_print_test(m);
    clae_afile a;
    if (clae_afile_open(&a, rp->eval_json, err)) return -1;
    fprintf(a.f, "{\"checkpoint\": ");
    clae_json_string(a.f, ckpt);
    fprintf(a.f, ", \"epoch\": %d, \"test\": ", t->epoch);
    run_write_test_json(a.f, t, m);
    fprintf(a.f, "}\n");
    return clae_afile_commit(&a, err);
}

int cmd_eval(int argc, char **argv)
{
    clae_cli_opts o;
    clae_err err;
    if (clae_cli_parse(argc, argv, 2, &o, &err)) return clae_cli_error(&err);
    if (o.help || !o.positional) {
        printf("usage: clae eval RUN [--best] [--device SPEC]\n  test-set MSE and BCE of RUN's last (or best) "
               "checkpoint; also written to RUN/eval.json\n");
        return o.help ? 0 : 2;
    }
    run_paths rp;
    run_set_paths(&rp, o.positional);
    clae_config cfg;
    if (clae_config_load(&cfg, rp.config, o.sets, o.n_sets, &err)) return clae_cli_error(&err);
    clae_ctx ctx;
    clae_trainer t;
    clae_metrics m;
    int rc = -1;
    const char *ckpt = o.best ? rp.best : rp.checkpoint;
    if (clae_ctx_create(&ctx, o.device, &err) == 0) {
        run_print_device(&ctx);
        if (clae_trainer_open(&t, &ctx, &cfg, &err) == 0) {
            if (clae_trainer_load(&t, ckpt, &err) == 0) {
                if (clae_trainer_evaluate(&t, 't', &m) == 0) rc = write_eval(&rp, &t, &m, ckpt, &err);
                else err = ctx.err;
            }
            clae_trainer_close(&t);
        }
        clae_ctx_release(&ctx);
    }
    clae_config_free(&cfg);
    return rc ? clae_cli_error(&err) : 0;
}
