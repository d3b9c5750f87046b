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
#include "clae/job.h"
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
           "              train.autotune seconds (default 20) timing GEMM variants first\n\n"
           "  mpirun -np N clae train CONFIG trains data-parallel: N ranks, one device each\n"
           "  (--device A,B,... by local rank), each a shard of the global batch\n"
           "  train.batch_size; rank 0 writes the run (train.sync_bn, train.bucket_kb)\n");
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

/* What the epochs of one run keep between them (the leader's logs). */
typedef struct {
    progress_state ps;
    int saved;         /* the epoch checkpoint.bin holds (resume: the one read) */
    double first_loss; /* for the warning that training diverges (loss x100) */
    bool warned;
} epoch_logs;

/* The leader after an epoch: validation, the logs, the checkpoints, early
 * stopping. 1: go on; 0: stop early; -1: error. */
static int end_epoch(clae_trainer *t, run_paths *rp, FILE *jl, epoch_logs *el, double e0,
                     clae_err *err)
{
    const clae_train_cfg *tc = &t->cfg->train;
    clae_metrics val;
    if (clae_trainer_evaluate(t, CLAE_SPLIT_VAL, &val)) return *err = t->ctx->err, -1;
    if (el->ps.tty) fprintf(stderr, "\n");
    if (el->ps.write_errno)
        return clae_fail(err, "cannot write %s: %s", rp->steps_csv, strerror(el->ps.write_errno));
    double val_loss = val.v[CLAE_METRIC_LOSS];
    if (!isfinite(val_loss))
        return clae_fail(err,
                         "epoch %d: the validation loss is %s though training's is %g: "
                         "lower train.lr or set train.clip_norm",
                         t->epoch, isnan(val_loss) ? "NaN" : "infinite",
                         t->train_metrics.v[CLAE_METRIC_LOSS]);
    bool best = val.n > 0 && val_loss < t->best_val - tc->min_delta;
    if (best)
        t->best_val = val_loss, t->since_best = 0;
    else
        t->since_best++;
    printf("epoch %d/%d", t->epoch, tc->epochs);
    clae_metrics_print_epoch(stdout, &t->train_metrics, &val);
    printf("%s, %.1f s\n", best ? " best" : "", clae_now() - e0);
    double train_loss = t->train_metrics.v[CLAE_METRIC_LOSS];
    if (el->first_loss == 0 && train_loss > 0) el->first_loss = train_loss;
    if (el->first_loss > 0 && train_loss > 100 * el->first_loss && !el->warned)
        el->warned = true, printf("warning: the training loss rose from %g to %g since this "
                                  "process's first epoch: diverging? lower train.lr or set "
                                  "train.clip_norm\n",
                                  el->first_loss, train_loss);
    fflush(stdout);
    run_position pos = run_position_of(t);
    json_lines_epoch(jl, &pos, &val, clae_now() - e0, best);
    if (run_append_metrics(rp, &pos, &val, clae_now() - e0, err) ||
        clae_trainer_save(t, rp->checkpoint, err))
        return -1;
    el->saved = t->epoch;
    if (best && clae_trainer_save(t, rp->best, err)) return -1;
    if (tc->patience > 0 && t->since_best >= tc->patience) {
        printf("early stop after epoch %d: no validation improvement over %g for %d epochs "
               "(best %.6f in %s)\n",
               t->epoch, tc->min_delta, tc->patience, t->best_val, rp->best);
        return 0;
    }
    return 1;
}

/* The leader's word after an epoch, to every rank of a job (they wait for it while it
 * evaluates and writes): go on, or stop early. Its errors abort the job. */
static int share_decision(clae_trainer *t, int *go, clae_err *err)
{
    if (!t->dp) return 0;
    int32_t word = *go;
    if (clae_job_bcast(t->job, &word, sizeof word, 0, err)) return -1;
    *go = word;
    return 0;
}

static int open_steps_csv(epoch_logs *el, const run_paths *rp, clae_err *err)
{
    bool fresh = access(rp->steps_csv, F_OK) != 0;
    el->ps.steps_csv = fopen(rp->steps_csv, "a");
    if (!el->ps.steps_csv)
        return clae_fail(err, "cannot write %s: %s", rp->steps_csv, strerror(errno));
    if (fresh && fprintf(el->ps.steps_csv, "step,epoch,train_loss\n") < 0)
        el->ps.write_errno = errno;
    return 0;
}

/* Every rank trains the epochs; the leader (rank 0, or the process alone) logs them. */
static int train_epochs(clae_trainer *t, run_paths *rp, FILE *jl, clae_err *err)
{
    const clae_train_cfg *tc = &t->cfg->train;
    bool lead = clae_trainer_leads(t);
    epoch_logs el = {
        .ps = {.tty = lead && isatty(STDERR_FILENO), .t0 = clae_now(), .batch = tc->batch_size},
        .saved = t->epoch};
    long steps_per_epoch = ((long)t->data.train.n + tc->batch_size - 1) / tc->batch_size;
    el.ps.total_steps = steps_per_epoch * tc->epochs;
    if (lead && open_steps_csv(&el, rp, err)) return -1;
    int rc = 0;
    while (rc == 0 && t->epoch < tc->epochs) {
        double e0 = clae_now();
        int ended = clae_trainer_epoch(t, lead ? on_progress : NULL, &el.ps);
        if (ended == 1) {
            if (el.ps.tty) fprintf(stderr, "\n");
            rc = lead ? interrupted(t, rp, err) : (clae_fail(err, "interrupted"), 1);
            break;
        }
        if (ended) {
            *err = t->ctx->err;
            rc = -1;
            break;
        }
        int go = lead ? end_epoch(t, rp, jl, &el, e0, err) : 1;
        if (go >= 0 && share_decision(t, &go, err)) go = -1;
        if (go <= 0) rc = go;
        if (go == 0) break;
    }
    if (el.ps.steps_csv && fclose(el.ps.steps_csv) != 0 && rc == 0)
        rc = clae_fail(err, "cannot write %s: %s", rp->steps_csv, strerror(errno));
    if (lead && rc < 0 && el.saved > 0)
        printf("%s holds the last complete epoch (%d): clae train --resume %s continues from it\n",
               rp->checkpoint, el.saved, rp->dir);
    return rc;
}

/* The leader's run directory: made (or, resuming, read: the checkpoint into t), the
 * config and the split written, what trains printed. */
static int prepare_run(clae_trainer *t, run_paths *rp, const clae_config *cfg,
                       const clae_cli_opts *o, clae_err *err)
{
    bool resume = o->resume != NULL;
    int rc = run_prepare(rp, cfg, resume ? o->resume : o->run_dir, resume, err);
    if (rc == 0 && resume) {
        rc = clae_trainer_load(t, rp->checkpoint, err);
        if (rc == 0 && t->epoch >= cfg->train.epochs)
            rc = clae_fail(err,
                           "%s already has %d of %d epochs: raise them with --set train.epochs=N",
                           rp->dir, t->epoch, cfg->train.epochs);
        if (rc == 0) printf("resuming %s at epoch %d (step %ld)\n", rp->dir, t->epoch, t->step);
        if (rc == 0) run_remove_stale_temps(rp);
        if (rc == 0) rc = run_align_logs(rp, t->epoch, t->step, err);
    }
    if (rc == 0) rc = run_write_config(rp, cfg, err);
    if (rc == 0) rc = run_write_split(rp, t, err);
    if (rc) return rc;
    printf("run directory: %s\n", rp->dir);
    const clae_dataset *set = &t->data.sources[0].set;
    if (set->skipped) printf("data: skipped %u unreadable files\n", set->skipped);
    if (set->unlisted)
        printf("data: label 0 for %u image%s not listed in %s\n", set->unlisted,
               set->unlisted == 1 ? "" : "s", cfg->data.labels);
    printf("data: %u train, %u validation, %u test images of %dx%dx%d; model: %d layers, %zu "
           "parameters\n",
           t->data.train.n, t->data.val.n, t->data.test.n, t->model.input.c, t->model.input.h,
           t->model.input.w, t->model.n_layers, t->model.n_params);
    if (t->dp)
        printf("mpi: %d ranks, each a shard of the global batch of %d (about %d rows), "
               "gradients summed in %d bucket%s\n",
               t->job->size, cfg->train.batch_size, cfg->train.batch_size / t->job->size,
               t->dp->n_buckets, t->dp->n_buckets == 1 ? "" : "s");
    if (t->dp && t->ctx->dev.kind == CLAE_DEV_CPU && t->job->local_size > 1)
        printf("mpi: note: the %d ranks on this machine share its CPU, one OpenCL device: they "
               "train as one process would, not faster (ranks pay off on several devices or "
               "machines)\n",
               t->job->local_size);
    return 0;
}

/* The failure of every rank of a job alike (the same config, the same files): rank 0 says
 * it as a process alone would, the others nothing; every rank exits (no abort). */
#define FAILED_ALIKE (-2)
#define FAILED_ALIKE_SAY (-3)

/* The trainer on every rank, or on none: ranks that cannot open it while the
 * others can report themselves (and the job stops); when none can, rank 0
 * reports for all. */
static int open_trainer(clae_trainer *t, clae_ctx *ctx, const clae_config *cfg, const clae_job *job,
                        clae_err *err)
{
    int rc = clae_trainer_open_job(t, ctx, cfg, job, err);
    if (job->size <= 1) return rc;
    double failed = rc != 0;
    clae_err e;
    if (clae_job_allreduce_sum_f64(job, &failed, 1, &e)) return *err = e, -1;
    if (failed == job->size) return job->rank == 0 ? FAILED_ALIKE_SAY : FAILED_ALIKE;
    if (rc) return -1;
    if (failed > 0) return clae_trainer_close(t), FAILED_ALIKE; /* the failed rank aborts */
    if (clae_trainer_join(t, err)) return clae_trainer_close(t), -1;
    return 0;
}

/* Data and model are checked before the run directory exists, so a config
 * error leaves nothing behind. In a job only the leader (rank 0) writes: the
 * run directory, the logs, the pictures; a resumed job reads the checkpoint
 * there and rank 0 sends it to the others. */
static int train_run(clae_ctx *ctx, const clae_config *cfg, const clae_cli_opts *o, FILE *jl,
                     const clae_job *job, clae_err *err)
{
    clae_trainer t;
    run_paths rp;
    double t0 = clae_now();
    int opened = open_trainer(&t, ctx, cfg, job, err);
    if (opened) return opened;
    bool lead = clae_trainer_leads(&t);
    int rc = lead ? prepare_run(&t, &rp, cfg, o, err) : 0;
    if (rc == 0 && o->resume) rc = clae_trainer_share(&t, err);
    if (rc == 0) {
        t.stop = &stop_signal;
        catch_stop_signals();
        rc = train_epochs(&t, &rp, jl, err);
    }
    clae_metrics test;
    if (rc == 0 && lead) rc = run_finish(&rp, &t, clae_now() - t0, &test, err);
    run_position pos = run_position_of(&t);
    if (rc == 0) json_lines_done(jl, &pos, &test, rp.dir);
    if (rc) json_lines_stopped(jl, &pos, rc == 1 ? "interrupted" : "failed", err->msg);
    if (lead) clae_profile_print(ctx, stdout, t.run_steps);
    uint32_t test_images = t.data.test.n;
    bool labelled = t.data.sources[t.data.test.source].set.labels != NULL;
    clae_trainer_close(&t);
    if (rc == 0 && lead) rc = report_after_training(ctx, rp.dir, cfg, test_images, labelled, err);
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

/* A rank of a job of several: its device (--device, else train.devices, by local
 * rank), PoCL's threads shared out among the ranks on this machine, the output
 * left to rank 0. */
static int join_job(const clae_job *job, const clae_config *cfg, clae_cli_opts *o, clae_err *err)
{
    if (cfg->data.format == CLAE_DATA_GRAPH)
        return clae_fail(err,
                         "%s: graph training takes the whole graph each step: run it as one "
                         "process, not under mpirun -np %d",
                         cfg->path, job->size);
    if (!o->dev.ctx.device && cfg->train.devices[0]) o->dev.ctx.device = cfg->train.devices;
    o->dev.ctx.in_job = true;
    o->dev.ctx.local_rank = job->local_rank;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (!getenv("POCL_MAX_PTHREAD_COUNT") && job->local_size > 1 && cores > 0) {
        char n[16]; /* before the OpenCL platform starts: it reads it once */
        snprintf(n, sizeof n, "%ld", cores / job->local_size > 0 ? cores / job->local_size : 1);
        setenv("POCL_MAX_PTHREAD_COUNT", n, 0);
    }
    o->no_autotune = true; /* N ranks timing GEMMs at once would measure each other */
    if (job->rank > 0) {
        o->report = NULL;
        if (!freopen("/dev/null", "w", stdout))
            return clae_fail(err, "cannot silence rank %d's output: %s", job->rank,
                             strerror(errno));
    }
    return 0;
}

/* An error in a job of several: one line naming the rank, then every rank
 * stops (the others would wait for this one forever). */
static int job_error(const clae_job *job, const clae_err *err)
{
    if (job->size <= 1) return clae_cli_error(err);
    fprintf(stderr, "clae: rank %d of %d: %s\n", job->rank, job->size, err->msg);
    clae_job_abort(job, 1);
}

static int train_config(clae_job *job, clae_config *cfg, const char *config_path, clae_cli_opts *o)
{
    clae_ctx ctx;
    FILE *jl = NULL;
    clae_err err;
    int rc = job->size > 1 ? join_job(job, cfg, o, &err) : 0;
    if (rc && job->size > 1) /* the config's: the same on every rank */
        return job->rank == 0 ? clae_cli_error(&err) : 1;
    if (rc == 0) rc = json_lines_open(o->report, &jl, &err);
    if (rc == 0 && (rc = clae_device_open(&ctx, &o->dev, &err)) == 0) {
        autotune_if_untuned(&ctx, cfg, config_path, o);
        if (ctx.dev.kind == CLAE_DEV_CPU) job->spin = 50; /* its cores are the device's */
        if (job->rank == 0) run_print_device(&ctx);
        rc = cfg->data.format == CLAE_DATA_GRAPH
                 ? graph_train_run(&ctx, cfg, o, jl, &stop_signal, &err)
                 : train_run(&ctx, cfg, o, jl, job, &err);
        clae_device_close(&ctx);
    }
    json_lines_close(jl);
    if (rc == 1) /* interrupted, with a checkpoint: 128 + the signal, as a shell reports it */
        /* in a job another rank may have been the one signalled: it stopped them all */
        return (job->rank == 0 ? clae_cli_error(&err) : 0),
               128 + (int)(stop_signal ? stop_signal : SIGTERM);
    if (rc == FAILED_ALIKE) return 1;
    if (rc == FAILED_ALIKE_SAY) return clae_cli_error(&err);
    if (rc) return job_error(job, &err);
    return clae_job_barrier(job, &err) ? job_error(job, &err) : 0;
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
    clae_job job;
    if (clae_job_open(&job, &err)) return clae_cli_error(&err);
    clae_config cfg;
    int rc;
    if (clae_config_load(&cfg, config_path, o.sets, o.n_sets, &err)) {
        rc = job.rank == 0 ? clae_cli_error(&err) : 1; /* every rank read the same file */
    } else {
        rc = train_config(&job, &cfg, config_path, &o);
        clae_config_free(&cfg);
    }
    clae_job_close(&job);
    return rc;
}
