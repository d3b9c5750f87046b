/* clae sweep SWEEP.ini: trials of a base config with sampled keys, each a
 * `clae train` child (its own run directory, its resolved config) that reports
 * every epoch as a JSON line (--report); the sampler and pruner of the sweep
 * file decide what runs and what stops (a pruned trial gets SIGTERM and ends
 * with its checkpoint). Everything goes to out_dir/name/: journal.jsonl (the
 * events, so a killed sweep resumes where it stopped and a finished one is not
 * run again), trial-NNN/ and trial-NNN.log, then sweep.md (the ranked table and
 * the keys' importance), best.ini, history.svg and one key_KEY.svg per key. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clae/clock.h"
#include "clae/config.h"
#include "clae/io.h"
#include "clae/sweep.h"
#include "cli.h"
#include "sweep_ranks.h"
#include "sweep_report.h"

#define MAX_SLOTS 16

static volatile sig_atomic_t sweep_stop; /* SIGINT/SIGTERM: stop the trials, keep the journal */

static void on_signal(int sig) { sweep_stop = sig; }

typedef struct {
    bool busy;
    int rank;  /* the rank that runs its trials (in a job: the slot's; else 0, here) */
    pid_t pid; /* of the child, when it runs here */
    int trial;
    FILE *report;
    bool pruning, done, bad_metric;
    char message[512];
    double t0;
} slot;

typedef struct {
    const clae_job *job;
    clae_sweep_spec spec;
    char dir[700], journal_path[800];
    FILE *journal;
    clae_trial *trials;
    int n_trials;
    char devices[MAX_SLOTS][64];
    int n_slots;
    slot slots[MAX_SLOTS];
    char fatal[600]; /* a trial showed the sweep cannot work (its metric is missing) */
} sweep;

static void trial_paths(const sweep *w, int id, char *dir, char *log, char *report, size_t n)
{
    snprintf(dir, n, "%s/trial-%03d", w->dir, id);
    snprintf(log, n, "%s/trial-%03d.log", w->dir, id);
    snprintf(report, n, "%s/trial-%03d.jsonl", w->dir, id);
}

/* argv of the trial's clae train: a resume when its run holds a checkpoint. */
static int trial_argv(const sweep *w, const clae_trial *t, const char *device, char **argv,
                      char store[][300])
{
    char dir[800], log[800], report[800], ckpt[900];
    trial_paths(w, t->id, dir, log, report, sizeof dir);
    snprintf(ckpt, sizeof ckpt, "%s/checkpoint.bin", dir);
    int n = 0, s = 0;
#define ARG(text) (snprintf(store[s], 300, "%s", (text)), argv[n++] = store[s++])
    ARG("clae"); /* sweep_start_child runs this executable, wherever it is */
    ARG("train");
    bool resume = access(ckpt, R_OK) == 0;
    if (resume) {
        ARG("--resume"), ARG(dir);
    } else {
        ARG(w->spec.config), ARG("--run"), ARG(dir);
        for (int i = 0; i < w->spec.n_sets; i++) ARG("--set"), ARG(w->spec.sets[i]);
        for (int k = 0; k < w->spec.n_params; k++) {
            char text[128], set[300];
            clae_sweep_value_text(&w->spec.params[k], t->x[k], text, sizeof text);
            snprintf(set, sizeof set, "%s=%s", w->spec.params[k].key, text);
            ARG("--set"), ARG(set);
        }
    }
    ARG("--report"), ARG(report);
    if (device[0]) ARG("--device"), ARG(device);
#undef ARG
    argv[n] = NULL;
    return n;
}

/* Starts trial t's child on slot sl (here, or on the slot's rank); its output goes to
 * trial-NNN.log. */
static int spawn(sweep *w, slot *sl, const clae_trial *t, const char *device, clae_err *err)
{
    char store[64][300];
    char *argv[64], dir[800], log[800], report[800];
    trial_paths(w, t->id, dir, log, report, sizeof dir);
    char ckpt[900];
    snprintf(ckpt, sizeof ckpt, "%s/checkpoint.bin", dir);
    if (access(dir, F_OK) == 0 && access(ckpt, F_OK) != 0) { /* started, nothing kept: again */
        char old[900];
        snprintf(old, sizeof old, "%s.unfinished-%ld", dir, (long)time(NULL));
        if (rename(dir, old))
            return clae_fail(err, "cannot move %s aside: %s", dir, strerror(errno));
    }
    trial_argv(w, t, sl->rank ? "" : device, argv, store); /* a rank adds its own device */
    int rank = sl->rank;
    pid_t pid = 0;
    if (rank ? sweep_rank_start(w->job, rank, t->id, log, argv, err)
             : sweep_start_child(argv, log, &pid, err))
        return -1;
    *sl = (slot){.busy = true, .rank = rank, .pid = pid, .trial = t->id, .t0 = clae_now()};
    return 0;
}

static void signal_slot(sweep *w, slot *sl, int sig)
{
    clae_err err;
    if (!sl->rank)
        kill(sl->pid, sig);
    else if (sweep_rank_signal(w->job, sl->rank, sl->trial, sig, &err))
        fprintf(stderr, "clae: warning: %s\n", err.msg);
}

/* The sweep's metric in an epoch line of clae train --report (NaN for null); *found
 * false when the line does not have it at all. */
static double metric_of(const char *metric, const char *line, bool *found)
{
    *found = false;
    const char *from = line, *key = metric;
    if (strncmp(metric, "val.", 4) == 0 || strncmp(metric, "train.", 6) == 0) {
        bool val = metric[0] == 'v';
        from = strstr(line, val ? "\"val\": {" : "\"train\": {");
        key = metric + (val ? 4 : 6);
        if (!from) return NAN;
    }
    char pat[96];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *p = strstr(from, pat);
    *found = p != NULL;
    if (!p || strncmp(p + strlen(pat), "null", 4) == 0) return NAN;
    return strtod(p + strlen(pat), NULL);
}

/* A complete line of the child's report (one JSON object). */
static void report_line(sweep *w, slot *sl, const char *line)
{
    clae_trial *t = &w->trials[sl->trial];
    if (strstr(line, "\"event\": \"done\"")) {
        sl->done = true;
        return;
    }
    if (strstr(line, "\"event\": \"failed\"")) {
        const char *m = strstr(line, "\"message\": \"");
        snprintf(sl->message, sizeof sl->message, "%.*s", m ? (int)strcspn(m + 12, "\"") : 0,
                 m ? m + 12 : "");
        return;
    }
    const char *e = strstr(line, "\"epoch\": ");
    if (!strstr(line, "\"event\": \"epoch\"") || !e) return;
    int epoch = atoi(e + 9);
    if (epoch < 1 || epoch > CLAE_SWEEP_MAX_EPOCHS || epoch > t->n_values + 1) return;
    bool found;
    t->n_values = epoch;
    t->values[epoch - 1] = metric_of(w->spec.metric, line, &found);
    clae_journal_epoch(w->journal, t);
    if (!found && !sl->bad_metric) {
        sl->bad_metric = true;
        snprintf(sl->message, sizeof sl->message,
                 "metric '%s' is not in clae train's epoch lines: expected val_loss, "
                 "train_loss, or val.KEY / train.KEY of a metric the run has",
                 w->spec.metric);
        signal_slot(w, sl, SIGTERM);
        return;
    }
    if (!sl->pruning && clae_sweep_should_prune(&w->spec, w->trials, w->n_trials, t)) {
        sl->pruning = true;
        signal_slot(w, sl, SIGTERM); /* it ends after this step, with its checkpoint */
    }
}

/* The report lines the child has written since the last poll. */
static void poll_report(sweep *w, slot *sl)
{
    if (!sl->report) {
        char dir[800], log[800], report[800];
        trial_paths(w, sl->trial, dir, log, report, sizeof dir);
        if (!(sl->report = fopen(report, "r"))) return;
    }
    char line[65536];
    for (;;) {
        long at = ftell(sl->report);
        if (!fgets(line, sizeof line, sl->report)) break;
        if (!strchr(line, '\n')) { /* written halfway: read it whole next time */
            fseek(sl->report, at, SEEK_SET);
            break;
        }
        report_line(w, sl, line);
    }
    clearerr(sl->report);
}

/* A child has exited: its trial's state, the journal's end event. */
static void finish_slot(sweep *w, slot *sl, int status)
{
    poll_report(w, sl);
    clae_trial *t = &w->trials[sl->trial];
    t->seconds += clae_now() - sl->t0;
    if (sweep_stop && !sl->done) { /* interrupted: stays running, resumed next time */
        printf("trial %d: interrupted after epoch %d\n", t->id, t->n_values);
    } else {
        t->state = sl->pruning                                                 ? CLAE_TRIAL_PRUNED
                   : sl->done && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? CLAE_TRIAL_COMPLETE
                                                                               : CLAE_TRIAL_FAILED;
        if (t->state == CLAE_TRIAL_FAILED && !sl->message[0])
            snprintf(sl->message, sizeof sl->message, "clae train exited with status %d",
                     WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
        if (sl->bad_metric) t->state = CLAE_TRIAL_FAILED;
        clae_journal_end(w->journal, t, sl->message);
        if (sl->bad_metric)
            snprintf(w->fatal, sizeof w->fatal, "%s: %s", w->spec.path, sl->message);
        printf("trial %d: %s after %d epochs, %s %.6g (%.1f s)%s%s\n", t->id,
               clae_trial_state_name(t->state), t->n_values, w->spec.metric, clae_trial_value(t),
               t->seconds, sl->message[0] ? ": " : "", sl->message);
    }
    fflush(stdout);
    if (sl->report) fclose(sl->report);
    sl->pid = 0;
    sl->busy = false;
    sl->report = NULL;
}

/* The next trial to run: an unfinished one of an interrupted sweep, else a new sample. */
static int next_trial(sweep *w, clae_err *err)
{
    for (int i = 0; i < w->n_trials; i++) {
        bool busy = false;
        for (int s = 0; s < w->n_slots; s++) busy |= w->slots[s].busy && w->slots[s].trial == i;
        if (w->trials[i].state == CLAE_TRIAL_RUNNING && !busy) return i;
    }
    if (w->n_trials >= w->spec.trials) return -1;
    clae_trial *t = &w->trials[w->n_trials];
    memset(t, 0, sizeof *t);
    t->id = w->n_trials;
    if (clae_sweep_sample(&w->spec, w->trials, w->n_trials, t->id, t->x, err)) return -2;
    w->n_trials++;
    clae_journal_start(w->journal, &w->spec, t);
    return t->id;
}

static bool any_running(const sweep *w)
{
    for (int s = 0; s < w->n_slots; s++)
        if (w->slots[s].busy) return true;
    return false;
}

/* The children that ended on other ranks. */
static int poll_ranks(sweep *w, clae_err *err)
{
    for (;;) {
        bool got;
        int rank, status;
        if (sweep_rank_poll_exit(w->job, &got, &rank, &status, err)) return -1;
        if (!got) return 0;
        for (int s = 0; s < w->n_slots; s++)
            if (w->slots[s].busy && w->slots[s].rank == rank) finish_slot(w, &w->slots[s], status);
    }
}

static int run_trials(sweep *w, clae_err *err)
{
    for (;;) {
        for (int s = 0; s < w->n_slots && !sweep_stop && !w->fatal[0]; s++) {
            if (w->slots[s].busy) continue;
            int id = next_trial(w, err);
            if (id == -2) return -1;
            if (id < 0) break;
            printf("trial %d: starting", id);
            for (int k = 0; k < w->spec.n_params; k++) {
                char text[128];
                clae_sweep_value_text(&w->spec.params[k], w->trials[id].x[k], text, sizeof text);
                printf(" %s=%s", w->spec.params[k].key, text);
            }
            if (w->job->size > 1) printf(" on rank %d", w->slots[s].rank);
            printf("%s%s\n", w->devices[s][0] ? " on " : "", w->devices[s]);
            if (spawn(w, &w->slots[s], &w->trials[id], w->devices[s], err)) return -1;
        }
        if (!any_running(w)) return w->fatal[0] ? clae_fail(err, "%s", w->fatal) : 0;
        for (int s = 0; s < w->n_slots; s++) {
            slot *sl = &w->slots[s];
            if (!sl->busy) continue;
            poll_report(w, sl);
            int status;
            if (!sl->rank && waitpid(sl->pid, &status, WNOHANG) == sl->pid)
                finish_slot(w, sl, status);
        }
        if (poll_ranks(w, err)) return -1;
        if (sweep_stop == SIGTERM) /* SIGINT reached the children from the terminal already */
            for (int s = 0; s < w->n_slots; s++)
                if (w->slots[s].busy && !w->slots[s].rank) kill(w->slots[s].pid, SIGTERM);
        nanosleep(&(struct timespec){0, 50000000}, NULL);
    }
}

/* In a job every rank is one slot: its device is --devices' entry of its local rank. */
static void job_slots(sweep *w)
{
    int n = w->n_slots;
    char mine[64];
    snprintf(mine, sizeof mine, "%s", w->devices[w->job->local_rank % n]);
    w->n_slots = w->job->size < MAX_SLOTS ? w->job->size : MAX_SLOTS;
    for (int s = 0; s < w->n_slots; s++) {
        w->slots[s].rank = s;
        w->devices[s][0] = 0; /* each rank names its own */
    }
    snprintf(w->devices[0], sizeof w->devices[0], "%s", mine);
}

static int parse_devices(sweep *w, const char *list, clae_err *err)
{
    w->n_slots = 1;
    w->devices[0][0] = 0;
    if (!list) return 0;
    w->n_slots = 0;
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        if (len == 0 || len >= sizeof w->devices[0] || w->n_slots == MAX_SLOTS)
            return clae_fail(err,
                             "--devices %s: expected up to %d device specs separated by commas",
                             list, MAX_SLOTS);
        snprintf(w->devices[w->n_slots++], sizeof w->devices[0], "%.*s", (int)len, p);
        p += len + (p[len] == ',');
    }
    return 0;
}

static int open_sweep(sweep *w, const clae_cli_opts *o, clae_err *err)
{
    if (clae_sweep_load(&w->spec, o->positional, err) || parse_devices(w, o->devices, err))
        return -1;
    if (w->job->size > 1) job_slots(w);
    snprintf(w->dir, sizeof w->dir, "%s/%s", w->spec.out_dir, w->spec.name);
    snprintf(w->journal_path, sizeof w->journal_path, "%s/journal.jsonl", w->dir);
    int cap = w->spec.trials;
    if (w->spec.sampler == CLAE_SAMPLER_GRID && clae_sweep_grid_size(&w->spec) < cap)
        w->spec.trials = cap = (int)clae_sweep_grid_size(&w->spec);
    w->trials = calloc((size_t)cap + 1, sizeof *w->trials);
    if (!w->trials) return clae_fail(err, "out of host memory for %d trials", cap);
    if (clae_mkdir_p(w->dir, err) ||
        clae_journal_read(w->journal_path, &w->spec, w->trials, cap, &w->n_trials, err))
        return -1;
    if (!(w->journal = fopen(w->journal_path, "a")))
        return clae_fail(err, "cannot write %s: %s", w->journal_path, strerror(errno));
    return 0;
}

/* The file checked (every key against the base config) and the plan printed; nothing runs. */
static int dry_run(sweep *w, const clae_cli_opts *o, clae_err *err)
{
    const clae_sweep_spec *s = &w->spec;
    if (clae_sweep_load(&w->spec, o->positional, err)) return -1;
    printf("sweep %s/%s of %s: %d trials, sampler %s, pruner %s, %s %s\n", s->out_dir, s->name,
           s->config, s->trials, clae_sampler_name(s->sampler), clae_pruner_name(s->pruner),
           s->maximize ? "maximize" : "minimize", s->metric);
    for (int k = 0; k < s->n_params; k++) {
        const clae_sweep_param *p = &s->params[k];
        printf("  %s: ", p->key);
        if (p->dist == CLAE_DIST_CHOICE)
            for (int c = 0; c < p->n_choices; c++) printf("%s%s", c ? ", " : "", p->choices[c]);
        else
            printf("%s from %g to %g%s",
                   p->dist == CLAE_DIST_INT          ? "int"
                   : p->dist == CLAE_DIST_LOGUNIFORM ? "log-uniform"
                                                     : "uniform",
                   p->lo, p->hi, p->dist == CLAE_DIST_INT && p->step != 1 ? " by the step" : "");
        printf("\n");
    }
    for (int i = 0; i < s->n_sets; i++) printf("  fixed: %s\n", s->sets[i]);
    if (s->sampler == CLAE_SAMPLER_GRID) printf("  grid of %ld points\n", clae_sweep_grid_size(s));
    return 0;
}

static void usage(void)
{
    printf("usage: clae sweep SWEEP.ini [--devices LIST] [--dry-run]\n"
           "  trials of the sweep file's base config with its keys sampled (grid, random or\n"
           "  tpe) and weak trials pruned (median, halving), each a clae train run of its own\n"
           "  in out_dir/name/trial-NNN; the journal there resumes a killed sweep (run the\n"
           "  same command again), a finished one only reports. --devices 0:0,gpu runs one\n"
           "  trial per device at a time; --dry-run checks the file against the base config\n"
           "  and prints what would run. Under mpirun -np N every rank runs one trial at a\n"
           "  time on its device (--devices by local rank) and rank 0 keeps the journal.\n"
           "  See configs/sweeps/ and the README.\n");
}

/* A rank other than 0 of a job: one trial slot, on its --devices entry, run as rank 0 says. */
static int serve_rank0(sweep *w, const clae_cli_opts *o, clae_err *err)
{
    if (o->dry_run) return 0;
    if (parse_devices(w, o->devices, err)) return -1;
    if (!freopen("/dev/null", "w", stdout))
        return clae_fail(err, "cannot silence rank %d's output: %s", w->job->rank, strerror(errno));
    return sweep_rank_work(w->job, w->devices[w->job->local_rank % w->n_slots], &sweep_stop, err);
}

static int run_sweep(sweep *w, const clae_cli_opts *o, clae_err *err)
{
    int rc = o->dry_run ? dry_run(w, o, err) : open_sweep(w, o, err);
    if (rc == 0 && !o->dry_run) {
        int done = 0;
        for (int i = 0; i < w->n_trials; i++) done += w->trials[i].state != CLAE_TRIAL_RUNNING;
        printf("sweep %s: %d of %d trials done%s; %s", w->dir, done, w->spec.trials,
               done ? " before (resuming)" : "", w->journal_path);
        if (w->job->size > 1) printf("; %d ranks, a trial each at a time", w->job->size);
        printf("\n");
        rc = run_trials(w, err);
    }
    /* the other ranks wait for this word: even after an error here */
    clae_err quit_err;
    if (w->job->size > 1 && sweep_rank_quit_all(w->job, &quit_err) && rc == 0)
        *err = quit_err, rc = -1;
    if (rc == 0 && sweep_stop) {
        clae_fail(err, "interrupted: clae sweep %s resumes it", o->positional);
        rc = 1;
    }
    if (rc == 0 && !o->dry_run) rc = sweep_report(&w->spec, w->dir, w->trials, w->n_trials, err);
    return rc;
}

int cmd_sweep(int argc, char **argv)
{
    clae_cli_opts o;
    clae_err err;
    if (clae_cli_parse(argc, argv, 2, &o, &err)) return clae_cli_error(&err);
    if (o.help || !o.positional) return usage(), o.help ? 0 : 2;
    clae_job job;
    if (clae_job_open(&job, &err)) return clae_cli_error(&err);
    sweep *w = calloc(1, sizeof *w);
    if (!w) return clae_cli_error(&(clae_err){"out of host memory"});
    w->job = &job;
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    int rc = job.rank == 0 ? run_sweep(w, &o, &err) : serve_rank0(w, &o, &err);
    if (w->journal) fclose(w->journal);
    free(w->trials);
    free(w);
    if (rc < 0 && job.rank > 0) { /* rank 0 waits for this rank's trials: stop the job */
        fprintf(stderr, "clae: rank %d of %d: %s\n", job.rank, job.size, err.msg);
        clae_job_abort(&job, 1);
    }
    clae_job_close(&job);
    if (rc == 1) return clae_cli_error(&err), 128 + (int)sweep_stop;
    return rc ? clae_cli_error(&err) : 0;
}
