/* clae eval RUN: recomputes test metrics from a run's checkpoint and config. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "run.h"

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
    int rc = -1, epoch = 0;
    const char *ckpt = o.best ? rp.best : rp.checkpoint;
    if (clae_ctx_create(&ctx, o.device, &err) == 0) {
        run_print_device(&ctx);
        if (clae_trainer_open(&t, &ctx, &cfg, &err) == 0) {
            if (clae_trainer_load(&t, ckpt, &err) == 0) {
                epoch = t.epoch;
                if (clae_trainer_evaluate(&t, 't', &m) == 0) rc = 0;
                else err = ctx.err;
            }
            clae_trainer_close(&t);
        }
        clae_ctx_release(&ctx);
    }
    clae_config_free(&cfg);
    if (rc) return clae_cli_error(&err);
    printf("test: mse %.6f, bce %.6f over %u images (%s, epoch %d)\n", m.mse, m.bce, m.n, ckpt, epoch);
    clae_afile a;
    if (clae_afile_open(&a, rp.eval_json, &err)) return clae_cli_error(&err);
    fprintf(a.f, "{\"checkpoint\": ");
    clae_json_string(a.f, ckpt);
    fprintf(a.f, ", \"epoch\": %d, \"test\": {\"images\": %u, \"mse\": %.8g, \"bce\": %.8g}}\n", epoch, m.n, m.mse,
            m.bce);
    if (clae_afile_commit(&a, &err)) return clae_cli_error(&err);
    return 0;
}
