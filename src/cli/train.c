/* clae train: one config on one device, into a run directory:
 *   config.ini   resolved config (all keys; trains again as it is)
 *   metrics.csv  per epoch; steps.csv per log interval (both appended on resume)
 *   loss.svg     train and validation loss against epoch
 *   recon.png    test inputs (top row) above their reconstructions
 *   checkpoint.bin (last), best.bin (best validation loss), summary.json */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "clae/clock.h"
#include "clae/train.h"
#include "cli.h"
#include "graph_run.h"
#include "json_lines.h"
#include "report.h"

static void usage(void)
{
    printf("usage: clae train CONFIG [--device SPEC] [--set section.key=value]... [--run DIR] "
           "[--profile] [--no-autotune]\n"
           "       clae train --resume RUN [--set train.epochs=N]... [--device SPEC]\n\n"
           "  CONFIG      an INI file (see configs/ and 'clae keys')\n"
           "  --device    cpu, gpu, igpu, P:D (from 'clae devices') or a name substring\n"
           "  --set       override any key, applied after the file (repeatable)\n"
           "  --run       run directory (default: train.out_dir/model.name, made unique)\n"
           "  --resume    continue RUN from its last checkpoint, with its config\n"
           "  --report    - or FILE: a JSON line per epoch, then done/interrupted/failed (with -,\n"
           "              stdout holds the lines alone and the rest goes to stderr)\n"
           "  --profile   device time per kernel family per step at the end (each kernel is waited "
           "for: slower)\n"
           "  --no-autotune  on a CPU device that clae tune never tuned, do not spend up to\n"
           "              train.autotune seconds (default 20) timing GEMM variants first\n");
}

/* SIGINT and SIGTERM end training after the current step with a checkpoint. A
 * handler can only reach a flag of this kind: the one piece of process state
 * outside the runtime context, read by the trainer through t->stop. */
static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig) { stop_signal = sig; }

/* The first SIGINT/SIGTERM asks to stop (SA_RESETHAND: a second one kills at once). */
static void catch_stop_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sa.sa_flags = SA_RESETHAND | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

typedef struct {
    bool tty;
    FILE *steps_csv;
    double t0;
    long total_steps, steps_before; /* over the whole run, for the ETA */
    int batch;
    int write_errno; /* steps.csv could not be written */
} progress_state;

static void on_progress(void *user, const clae_progress *p)
{
    progress_state *ps = user;
    long done = (long)(p->epoch - 1) * p->steps_per_epoch + p->step;
    double rate = p->images_per_s / ps->batch; /* steps per second */
    double eta = rate > 0 ? (double)(ps->total_steps - done) / rate : 0;
    if (ps->steps_csv && !ps->write_errno &&
        (fprintf(ps->steps_csv, "%ld,%d,%.8g\n", ps->steps_before + done, p->epoch, p->loss) < 0 ||
         fflush(ps->steps_csv) != 0))
        ps->write_errno = errno ? errno : EIO; /* reported after the epoch */
    if (ps->tty) {
        int width = 30, filled = (int)(width * p->step / p->steps_per_epoch);
        fprintf(stderr, "\repoch %d/%d [%.*s%*s] %ld/%ld loss %.5f %.0f img/s ETA %d:%02d ",
                p->epoch, p->epochs, filled, "##############################", width - filled, "",
                p->step, p->steps_per_epoch, p->loss, p->images_per_s, (int)eta / 60,
                (int)eta % 60);
        fflush(stderr);
    } else {
        printf("epoch %d/%d step %ld/%ld loss %.5f %.0f img/s ETA %ds\n", p->epoch, p->epochs,
               p->step, p->steps_per_epoch, p->loss, p->images_per_s, (int)eta);
        fflush(stdout);
    }
}

/* A signal ended the epoch after a step: checkpoint there, say how to go on. */
static int interrupted(clae_trainer *t, const run_paths *rp, clae_err *err)
{
    if (clae_trainer_save(t, rp->checkpoint, err)) return -1;
    printf("interrupted (%s) at epoch %d, step %ld of it: saved %s\n",
           stop_signal == SIGINT ? "SIGINT" : "SIGTERM", t->epoch + 1, t->epoch_step,
           rp->checkpoint);
    clae_fail(err, "interrupted: continue with clae train --resume %s", rp->dir);
    return 1;
}

static int train_epochs(clae_trainer *t, run_paths *rp, FILE *jl, clae_err *err)
{
    const clae_train_cfg *tc = &t->cfg->train;
    progress_state ps = {.tty = isatty(STDERR_FILENO), .t0 = clae_now(), .batch = tc->batch_size};
    long steps_per_epoch = ((long)t->data.train.n + tc->batch_size - 1) / tc->batch_size;
    ps.total_steps = steps_per_epoch * tc->epochs;
    ps.steps_before = 0;
    bool fresh = access(rp->steps_csv, F_OK) != 0;
    ps.steps_csv = fopen(rp->steps_csv, "a");
    if (!ps.steps_csv) return clae_fail(err, "cannot write %s: %s", rp->steps_csv, strerror(errno));
    if (fresh && fprintf(ps.steps_csv, "step,epoch,train_loss\n") < 0) ps.write_errno = errno;
    int rc = 0, saved = t->epoch; /* the epoch checkpoint.bin holds (resume: the one read) */
    double first_loss = 0;        /* for the warning that training diverges (loss x100) */
    bool warned = false;
    while (rc == 0 && t->epoch < tc->epochs) {
        double e0 = clae_now();
        clae_metrics val;
        int ended = clae_trainer_epoch(t, on_progress, &ps);
        if (ended == 1) {
            if (ps.tty) fprintf(stderr, "\n");
            rc = interrupted(t, rp, err);
            break;
        }
        if (ended || clae_trainer_evaluate(t, CLAE_SPLIT_VAL, &val)) {
            *err = t->ctx->err;
            rc = -1;
            break;
        }
        if (ps.tty) fprintf(stderr, "\n");
        if (ps.write_errno) {
            rc = clae_fail(err, "cannot write %s: %s", rp->steps_csv, strerror(ps.write_errno));
            break;
        }
        double val_loss = val.v[CLAE_METRIC_LOSS];
        if (!isfinite(val_loss)) {
            rc = clae_fail(err,
                           "epoch %d: the validation loss is %s though training's is %g: "
                           "lower train.lr or set train.clip_norm",
                           t->epoch, isnan(val_loss) ? "NaN" : "infinite",
                           t->train_metrics.v[CLAE_METRIC_LOSS]);
            break;
        }
        bool best = val.n > 0 && val_loss < t->best_val - tc->min_delta;
        if (best)
            t->best_val = val_loss, t->since_best = 0;
        else
            t->since_best++;
        printf("epoch %d/%d", t->epoch, tc->epochs);
        clae_metrics_print_epoch(stdout, &t->train_metrics, &val);
        printf("%s, %.1f s\n", best ? " best" : "", clae_now() - e0);
        double train_loss = t->train_metrics.v[CLAE_METRIC_LOSS];
        if (first_loss == 0 && train_loss > 0) first_loss = train_loss;
        if (first_loss > 0 && train_loss > 100 * first_loss && !warned)
            warned = true, printf("warning: the training loss rose from %g to %g since this "
                                  "process's first epoch: diverging? lower train.lr or set "
                                  "train.clip_norm\n",
                                  first_loss, train_loss);
        fflush(stdout);
        run_position pos = run_position_of(t);
        json_lines_epoch(jl, &pos, &val, clae_now() - e0, best);
        rc = run_append_metrics(rp, &pos, &val, clae_now() - e0, err);
        if (rc == 0) rc = clae_trainer_save(t, rp->checkpoint, err);
        if (rc == 0) saved = t->epoch;
        if (rc == 0 && best) rc = clae_trainer_save(t, rp->best, err);
        if (rc == 0 && tc->patience > 0 && t->since_best >= tc->patience) {
            printf("early stop after epoch %d: no validation improvement over %g for %d epochs "
                   "(best %.6f in %s)\n",
                   t->epoch, tc->min_delta, tc->patience, t->best_val, rp->best);
            break;
        }
    }
    if (fclose(ps.steps_csv) != 0 && rc == 0)
        rc = clae_fail(err, "cannot write %s: %s", rp->steps_csv, strerror(errno));
    if (rc < 0 && saved > 0)
        printf("%s holds the last complete epoch (%d): clae train --resume %s continues from it\n",
               rp->checkpoint, saved, rp->dir);
    return rc;
}

/* Data and model are checked before the run directory exists, so a config
 * error leaves nothing behind. */
static int train_run(clae_ctx *ctx, const clae_config *cfg, const clae_cli_opts *o, FILE *jl,
                     clae_err *err)
{
    clae_trainer t;
    run_paths rp;
    double t0 = clae_now();
    if (clae_trainer_open(&t, ctx, cfg, err)) return -1;
    bool resume = o->resume != NULL;
    int rc = run_prepare(&rp, cfg, resume ? o->resume : o->run_dir, resume, err);
    if (rc == 0 && resume) {
        rc = clae_trainer_load(&t, rp.checkpoint, err);
        if (rc == 0 && t.epoch >= cfg->train.epochs)
            rc = clae_fail(err,
                           "%s already has %d of %d epochs: raise them with --set train.epochs=N",
                           rp.dir, t.epoch, cfg->train.epochs);
        if (rc == 0) printf("resuming %s at epoch %d (step %ld)\n", rp.dir, t.epoch, t.step);
        if (rc == 0) run_remove_stale_temps(&rp);
        if (rc == 0) rc = run_align_logs(&rp, t.epoch, t.step, err);
    }
    if (rc == 0) rc = run_write_config(&rp, cfg, err);
    if (rc == 0) rc = run_write_split(&rp, &t, err);
    if (rc == 0) {
        printf("run directory: %s\n", rp.dir);
        const clae_dataset *set = &t.data.sources[0].set;
        if (set->skipped) printf("data: skipped %u unreadable files\n", set->skipped);
        if (set->unlisted)
            printf("data: label 0 for %u image%s not listed in %s\n", set->unlisted,
                   set->unlisted == 1 ? "" : "s", cfg->data.labels);
        printf("data: %u train, %u validation, %u test images of %dx%dx%d; model: %d layers, %zu "
               "parameters\n",
               t.data.train.n, t.data.val.n, t.data.test.n, t.model.input.c, t.model.input.h,
               t.model.input.w, t.model.n_layers, t.model.n_params);
        t.stop = &stop_signal;
        catch_stop_signals();
        rc = train_epochs(&t, &rp, jl, err);
    }
    clae_metrics test;
    if (rc == 0) rc = run_finish(&rp, &t, clae_now() - t0, &test, err);
    run_position pos = run_position_of(&t);
    if (rc == 0) json_lines_done(jl, &pos, &test, rp.dir);
    if (rc) json_lines_stopped(jl, &pos, rc == 1 ? "interrupted" : "failed", err->msg);
    clae_profile_print(ctx, stdout, t.run_steps);
    uint32_t test_images = t.data.test.n;
    bool labelled = t.data.sources[t.data.test.source].set.labels != NULL;
    clae_trainer_close(&t);
    if (rc == 0) rc = report_after_training(ctx, rp.dir, cfg, test_images, labelled, err);
    return rc;
}

/* Tuning without asking: the first run on a CPU device with no tuning file
 * times clae's GEMM variants on this config's shapes (tune.c), unless the
 * engine is forced, tuning is off, or the data is a graph (whose products
 * one synthetic step does not record). A failure costs only the speed-up. */
static void autotune_if_untuned(clae_ctx *ctx, const clae_config *cfg, const char *config_path,
                                const clae_cli_opts *o)
{
    if (o->no_autotune || cfg->train.autotune <= 0 || ctx->dev.kind != CLAE_DEV_CPU ||
        o->dev.gemm.no_tuning || cfg->data.format == CLAE_DATA_GRAPH ||
        strcmp(ctx->gemm->source, "defaults") != 0)
        return;
    clae_err err = {{0}};
    if (tune_autotune(ctx, config_path, cfg->train.autotune, &err))
        fprintf(stderr, "clae: warning: autotune: %s; training with the defaults\n", err.msg);
}

int cmd_train(int argc, char **argv)
{
    clae_cli_opts o;
    clae_err err;
    if (clae_cli_parse(argc, argv, 2, &o, &err)) return clae_cli_error(&err);
    if (o.help) return usage(), 0;
    if (!o.positional && !o.resume) {
        usage();
        return 2;
    }
    if (o.positional && o.resume)
        return clae_cli_error(
            &(clae_err){"give either CONFIG or --resume RUN (a run trains with its own config)"});
    char config_path[1100];
    if (o.resume)
        snprintf(config_path, sizeof config_path, "%s/config.ini", o.resume);
    else
        snprintf(config_path, sizeof config_path, "%s", o.positional);
    clae_config cfg;
    if (clae_config_load(&cfg, config_path, o.sets, o.n_sets, &err)) return clae_cli_error(&err);
    clae_ctx ctx;
    FILE *jl = NULL;
    int rc = json_lines_open(o.report, &jl, &err);
    if (rc == 0 && (rc = clae_device_open(&ctx, &o.dev, &err)) == 0) {
        autotune_if_untuned(&ctx, &cfg, config_path, &o);
        run_print_device(&ctx);
        rc = cfg.data.format == CLAE_DATA_GRAPH
                 ? graph_train_run(&ctx, &cfg, &o, jl, &stop_signal, &err)
                 : train_run(&ctx, &cfg, &o, jl, &err);
        clae_device_close(&ctx);
    }
    json_lines_close(jl);
    clae_config_free(&cfg);
    if (rc == 1) /* interrupted, with a checkpoint: 128 + the signal, as a shell reports it */
        return clae_cli_error(&err), 128 + (int)stop_signal;
    return rc ? clae_cli_error(&err) : 0;
}
