/* The sweep's parts without training: sweep files and their errors, the grid,
 * TPE's draws (in range, on the log scale, drawn toward the good trials), the
 * median and successive-halving pruners on hand-made histories, the journal
 * round trip and the importance measure. No device. */
#include <math.h>
#include <unistd.h>

#include "clae/sweep.h"
#include "helpers.h"

static char dir[] = "/tmp/clae_test_sweep_XXXXXX";

static const char *write_file(const char *name, const char *text)
{
    return test_write_file(dir, name, text);
}

/* A base config the sweep files point at. */
static void write_base(void)
{
    write_file("base.ini", "[model]\nname = b\n[train]\nepochs = 4\nlr = 1e-3\n[data]\n"
                           "format = csv\npath = x.csv\nimage = 1x2x2\n"
                           "[encoder.a]\ntype = dense\nunits = 8\n"
                           "[latent.code]\ntype = dense\nunits = 2\n"
                           "[decoder.out]\ntype = dense\nunits = 4\n");
}

static void load_ok(clae_sweep_spec *s, const char *text)
{
    clae_err err;
    if (clae_sweep_load(s, write_file("s.ini", text), &err)) fail_msg("%s", err.msg);
}

static void expect_error(const char *text, const char *want)
{
    clae_sweep_spec s;
    clae_err err;
    assert_int_equal(clae_sweep_load(&s, write_file("bad.ini", text), &err), -1);
    if (!strstr(err.msg, want)) fail_msg("error '%s' does not contain '%s'", err.msg, want);
}

static void test_spec(void **state)
{
    (void)state;
    write_base();
    clae_sweep_spec s;
    load_ok(&s, "[sweep]\nconfig = base.ini\ntrials = 7\nsampler = random\npruner = halving\n"
                "train.lr = loguniform(1e-4, 1e-1)\nlatent.code.units = choice(2, 4, 8)\n"
                "encoder.a.units = int(8, 32, 8)\n[fixed]\ntrain.epochs = 3\n");
    assert_int_equal(s.n_params, 3);
    assert_int_equal(s.trials, 7);
    assert_int_equal(s.sampler, CLAE_SAMPLER_RANDOM);
    assert_int_equal(s.pruner, CLAE_PRUNER_HALVING);
    assert_int_equal(s.params[0].dist, CLAE_DIST_LOGUNIFORM);
    assert_int_equal(s.params[1].n_choices, 3);
    assert_string_equal(s.params[1].choices[2], "8");
    assert_true(s.params[2].step == 8 && s.params[2].hi == 32);
    assert_string_equal(s.sets[0], "train.epochs=3");
    assert_non_null(strstr(s.config, dir)); /* relative to the sweep file */
    assert_string_equal(s.name, "s");
    char where[400];
    snprintf(where, sizeof where, "%s/bad.ini:3: train.lr:", dir);
    expect_error("[sweep]\nconfig = base.ini\ntrain.lr = uniform(1, 1)\n", "an empty range");
    expect_error("[sweep]\nconfig = base.ini\ntrain.lr = gauss(1, 2)\n", where);
    expect_error("[sweep]\nconfig = base.ini\ntrain.lr = loguniform(0, 1)\n", "0 < lo < hi");
    expect_error("[sweep]\nconfig = base.ini\nencoder.a.units = int(1.5, 4)\n", "integers");
    expect_error("[sweep]\nconfig = base.ini\nencoder.zz.units = int(1, 4)\n",
                 ":3: encoder.zz.units");
    expect_error("[sweep]\nconfig = base.ini\ntrain.nokey = choice(1, 2)\n", "unknown key 'nokey'");
    expect_error("[sweep]\nconfig = base.ini\ntrials = many\ntrain.lr = choice(1e-3)\n",
                 ":3: trials: expected a whole number");
    expect_error("[sweep]\nconfig = base.ini\nsamplr = grid\ntrain.lr = choice(1e-3)\n",
                 "unknown key 'samplr' in [sweep]");
    expect_error("[sweep]\nconfig = base.ini\nsampler = grid\ntrain.lr = uniform(0, 1)\n",
                 "a grid takes choice() and int() keys only");
    expect_error("[sweep]\nconfig = base.ini\n", "varies no key");
    expect_error("[sweep]\ntrain.lr = choice(1)\n", "needs config =");
    expect_error("[other]\nx = 1\n", "unknown section [other]");
    expect_error("[sweep]\nconfig = base.ini\ntrain.lr = choice(1, , 2)\n", "choice 2 is empty");
}

static void test_grid(void **state)
{
    (void)state;
    clae_sweep_spec s;
    load_ok(&s, "[sweep]\nconfig = base.ini\nsampler = grid\n"
                "latent.code.units = choice(2, 4, 8)\nencoder.a.units = int(8, 32, 8)\n");
    assert_int_equal(clae_sweep_grid_size(&s), 12);
    bool seen[3][4] = {{false}};
    for (int id = 0; id < 12; id++) {
        double x[2];
        clae_err err;
        assert_int_equal(clae_sweep_sample(&s, NULL, 0, id, x, &err), 0);
        int u = (int)(x[1] - 8) / 8;
        assert_false(seen[(int)x[0]][u]);
        seen[(int)x[0]][u] = true;
    }
    double x[2];
    clae_err err;
    assert_int_equal(clae_sweep_sample(&s, NULL, 0, 12, x, &err), -1);
}

/* A trial with one value after each of n epochs. */
static void make_trial(clae_trial *t, int id, clae_trial_state st, const double *v, int n)
{
    memset(t, 0, sizeof *t);
    t->id = id, t->state = st, t->n_values = n;
    for (int e = 0; e < n; e++) t->values[e] = v[e];
}

static void test_tpe(void **state)
{
    (void)state;
    clae_sweep_spec s;
    load_ok(&s, "[sweep]\nconfig = base.ini\nstartup_trials = 10\n"
                "train.lr = loguniform(1e-5, 1e-1)\nlatent.code.units = choice(2, 4, 8, 16)\n"
                "encoder.a.units = int(8, 64, 8)\n");
    /* 30 finished trials whose value is best near lr = 1e-3 and code 8 */
    enum { N = 30 };
    static clae_trial trials[N + 1];
    clae_err err;
    for (int i = 0; i < N; i++) {
        double x[3];
        assert_int_equal(clae_sweep_sample(&s, trials, i < 10 ? 0 : i, i, x, &err), 0);
        double v = pow(log10(x[0]) + 3, 2) + (x[1] == 2 ? 0 : 1) + 0.001 * x[2];
        make_trial(&trials[i], i, CLAE_TRIAL_COMPLETE, &v, 1);
        memcpy(trials[i].x, x, sizeof x);
    }
    int near = 0, good_choice = 0, decades[5] = {0};
    for (int id = N; id < N + 200; id++) {
        double x[3];
        assert_int_equal(clae_sweep_sample(&s, trials, N, id, x, &err), 0);
        assert_true(x[0] >= 1e-5 && x[0] <= 1e-1);
        assert_true(x[1] >= 0 && x[1] < 4 && x[1] == floor(x[1]));
        assert_true(x[2] >= 8 && x[2] <= 64 && fmod(x[2], 8) == 0);
        near += fabs(log10(x[0]) + 3) < 1;
        good_choice += x[1] == 2;
        decades[(int)fmin(4, floor(log10(x[0]) + 5))]++;
    }
    print_message("TPE: %d of 200 draws within a decade of lr 1e-3, %d on the best choice\n", near,
                  good_choice);
    /* uniform in log lr, 2 of the 4 decades lie within one of 1e-3; TPE goes toward the good */
    if (near < 150 || good_choice < 100)
        fail_msg("TPE: %d of 200 draws near lr 1e-3, %d on the best choice", near, good_choice);
    /* random draws follow the log scale: each decade gets about a quarter */
    s.sampler = CLAE_SAMPLER_RANDOM;
    memset(decades, 0, sizeof decades);
    for (int id = 0; id < 4000; id++) {
        double x[3];
        clae_sweep_sample(&s, NULL, 0, id, x, &err);
        decades[(int)fmin(3, floor(log10(x[0]) + 5))]++;
    }
    for (int d = 0; d < 4; d++)
        if (decades[d] < 850 || decades[d] > 1150) fail_msg("decade %d: %d of 4000", d, decades[d]);
}

static void test_median(void **state)
{
    (void)state;
    clae_sweep_spec s;
    load_ok(&s, "[sweep]\nconfig = base.ini\npruner = median\npruner_startup = 3\n"
                "warmup_epochs = 1\ntrain.lr = loguniform(1e-5, 1e-1)\n");
    static clae_trial t[6];
    make_trial(&t[0], 0, CLAE_TRIAL_COMPLETE, (double[]){1.0, 0.8, 0.6}, 3);
    make_trial(&t[1], 1, CLAE_TRIAL_COMPLETE, (double[]){1.0, 0.6, 0.5}, 3);
    make_trial(&t[2], 2, CLAE_TRIAL_COMPLETE, (double[]){1.0, 0.7, 0.4}, 3);
    /* epoch 2: the complete trials' median is 0.7 */
    make_trial(&t[3], 3, CLAE_TRIAL_RUNNING, (double[]){0.9, 0.75}, 2);
    assert_true(clae_sweep_should_prune(&s, t, 5, &t[3]));
    make_trial(&t[4], 4, CLAE_TRIAL_RUNNING, (double[]){0.9, 0.65}, 2);
    assert_false(clae_sweep_should_prune(&s, t, 5, &t[4]));
    /* its best so far counts: 0.6 at epoch 1 beats the median 0.7 at epoch 2 */
    make_trial(&t[4], 4, CLAE_TRIAL_RUNNING, (double[]){0.6, 0.9}, 2);
    assert_false(clae_sweep_should_prune(&s, t, 5, &t[4]));
    /* no pruning in the warm-up epoch, nor before pruner_startup complete trials */
    make_trial(&t[3], 3, CLAE_TRIAL_RUNNING, (double[]){5.0}, 1);
    assert_false(clae_sweep_should_prune(&s, t, 5, &t[3]));
    make_trial(&t[3], 3, CLAE_TRIAL_RUNNING, (double[]){5.0, 5.0}, 2);
    t[2].state = CLAE_TRIAL_PRUNED;
    assert_false(clae_sweep_should_prune(&s, t, 5, &t[3]));
    /* maximize turns it around */
    t[2].state = CLAE_TRIAL_COMPLETE;
    s.maximize = true;
    assert_false(clae_sweep_should_prune(&s, t, 5, &t[3]));
}

static void test_halving(void **state)
{
    (void)state;
    clae_sweep_spec s;
    load_ok(&s, "[sweep]\nconfig = base.ini\npruner = halving\nmin_resource = 1\n"
                "reduction_factor = 3\ntrain.lr = loguniform(1e-5, 1e-1)\n");
    static clae_trial t[10];
    /* rung 1 (epoch 1): six earlier trials with values 1..6 */
    for (int i = 0; i < 6; i++) {
        double v = 1.0 + i;
        make_trial(&t[i], i, CLAE_TRIAL_PRUNED, &v, 1);
    }
    /* with itself 7 values at the rung: 7 / 3 = 2 promoted, so the 2nd best (2.0) is the bar */
    make_trial(&t[6], 6, CLAE_TRIAL_RUNNING, (double[]){1.5}, 1);
    assert_false(clae_sweep_should_prune(&s, t, 7, &t[6]));
    make_trial(&t[6], 6, CLAE_TRIAL_RUNNING, (double[]){2.5}, 1);
    assert_true(clae_sweep_should_prune(&s, t, 7, &t[6]));
    /* epoch 2 is no rung (1, 3, 9, ...): never pruned there */
    make_trial(&t[6], 6, CLAE_TRIAL_RUNNING, (double[]){1.5, 100}, 2);
    assert_false(clae_sweep_should_prune(&s, t, 7, &t[6]));
    /* alone at a rung: the best so far goes on */
    make_trial(&t[6], 6, CLAE_TRIAL_RUNNING, (double[]){1.5, 9, 9}, 3);
    assert_false(clae_sweep_should_prune(&s, t, 7, &t[6]));
}

static void test_journal(void **state)
{
    (void)state;
    clae_sweep_spec s;
    load_ok(&s, "[sweep]\nconfig = base.ini\ntrain.lr = loguniform(1e-5, 1e-1)\n"
                "latent.code.units = choice(2, 4)\n");
    char path[400];
    snprintf(path, sizeof path, "%s/journal.jsonl", dir);
    FILE *f = fopen(path, "w");
    static clae_trial t[3], back[3];
    make_trial(&t[0], 0, CLAE_TRIAL_RUNNING, NULL, 0);
    t[0].x[0] = 1.2345678901234e-3, t[0].x[1] = 1;
    clae_journal_start(f, &s, &t[0]);
    for (int e = 1; e <= 3; e++) {
        t[0].n_values = e, t[0].values[e - 1] = 1.0 / e;
        clae_journal_epoch(f, &t[0]);
    }
    t[0].state = CLAE_TRIAL_PRUNED, t[0].seconds = 2.5;
    clae_journal_end(f, &t[0], "a \"quoted\" message");
    make_trial(&t[1], 1, CLAE_TRIAL_RUNNING, NULL, 0);
    t[1].x[0] = 0.01;
    clae_journal_start(f, &s, &t[1]);
    t[1].n_values = 1, t[1].values[0] = NAN;
    clae_journal_epoch(f, &t[1]);
    fputs("{\"event\": \"epoch\", \"tri", f); /* cut by a kill */
    fclose(f);
    int n;
    clae_err err;
    if (clae_journal_read(path, &s, back, 3, &n, &err)) fail_msg("%s", err.msg);
    assert_int_equal(n, 2);
    assert_int_equal(back[0].state, CLAE_TRIAL_PRUNED);
    assert_int_equal(back[0].n_values, 3);
    assert_true(back[0].x[0] == t[0].x[0] && back[0].x[1] == 1 && back[0].values[2] == 1.0 / 3);
    assert_true(back[0].seconds == 2.5);
    assert_int_equal(back[1].state, CLAE_TRIAL_RUNNING); /* resumed, not repeated */
    assert_true(isnan(back[1].values[0]));
    f = fopen(path, "a");
    fputs("\n{\"event\": \"epoch\", \"trial\": 7, \"epoch\": 1, \"value\": 1}\n", f);
    fclose(f);
    assert_int_equal(clae_journal_read(path, &s, back, 3, &n, &err), -1);
    assert_non_null(strstr(err.msg, "journal.jsonl:"));
}

static void test_importance(void **state)
{
    (void)state;
    clae_sweep_spec s;
    load_ok(&s, "[sweep]\nconfig = base.ini\ntrain.lr = uniform(0, 1)\n"
                "latent.code.units = choice(2, 4)\n");
    static clae_trial t[40];
    for (int i = 0; i < 40; i++) { /* the value follows the choice only */
        double v = (i % 2) * 10.0 + 0.01 * (i % 7);
        make_trial(&t[i], i, CLAE_TRIAL_COMPLETE, &v, 1);
        t[i].x[0] = (i * 37 % 40) / 40.0, t[i].x[1] = i % 2;
    }
    double imp[2];
    clae_sweep_importance(&s, t, 40, imp);
    if (!(imp[1] > 0.99 && imp[0] < 0.2)) fail_msg("importance %g %g", imp[0], imp[1]);
    clae_sweep_importance(&s, t, 3, imp);
    assert_true(isnan(imp[0]));
    /* a pruner stopped all but 2: the values at the last epoch all reached (2) count */
    for (int i = 0; i < 40; i++) {
        double v[3] = {5, (i % 2) * 10.0 + 0.01 * (i % 7), 1};
        make_trial(&t[i], i, i < 2 ? CLAE_TRIAL_COMPLETE : CLAE_TRIAL_PRUNED, v, i < 2 ? 3 : 2);
        t[i].x[0] = (i * 37 % 40) / 40.0, t[i].x[1] = i % 2;
    }
    clae_sweep_importance(&s, t, 40, imp);
    if (!(imp[1] > 0.99 && imp[0] < 0.2)) fail_msg("importance at epoch 2: %g %g", imp[0], imp[1]);
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec),       cmocka_unit_test(test_grid),
        cmocka_unit_test(test_tpe),        cmocka_unit_test(test_median),
        cmocka_unit_test(test_halving),    cmocka_unit_test(test_journal),
        cmocka_unit_test(test_importance),
    };
    int rc = cmocka_run_group_tests_name("sweep", tests, setup, NULL);
    test_remove_tree(dir);
    return rc;
}
