/* The model as a library: saved and loaded alone (bit for bit, batch-norm
 * statistics included), run over any range of its layers, refused against
 * another architecture with the layer that differs; and the step clae bench
 * times is the step clae train runs, every term of the objective included. */
#include <stdint.h>
#include <math.h>
#include <unistd.h>

#include "clae/model_file.h"
#include "clae/train.h"
#include "helpers.h"

static char dir[256];

/* conv (kernel K) + batch norm + pool + dense code, decoded by dense layers */
#define NET(K)                                                                                     \
    "[train]\nbatch_size = 5\nseed = 3\n"                                                          \
    "[encoder.c1]\ntype = conv\nchannels = 3\nkernel = " #K "\npadding = 2\nactivation = relu\n"   \
    "[encoder.bn]\ntype = batch_norm\n[encoder.pool]\ntype = max_pool\nkernel = 2\n"               \
    "[encoder.flat]\ntype = flatten\n[encoder.code]\ntype = dense\nunits = 6\nactivation = tanh\n" \
    "[decoder.fc]\ntype = dense\nunits = 144\nactivation = sigmoid\n"

static void config_of(const char *name, const char *text, clae_config *cfg)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
    clae_err err;
    if (clae_config_load(cfg, path, NULL, 0, &err)) fail_msg("%s", err.msg);
}

static const clae_shape INPUT = {1, 1, 12, 12};

static void build(clae_ctx *ctx, const clae_config *cfg, clae_model *m)
{
    clae_err err;
    if (clae_model_build(m, ctx, INPUT, cfg->layers, cfg->n_layers, 5, &err))
        fail_msg("%s", err.msg);
}

static void random_input(clae_ctx *ctx, clae_model *m, int rows, unsigned seed)
{
    size_t n = (size_t)rows * clae_shape_sample(m->input);
    float *x = malloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++) x[i] = test_uniform(&seed, 0, 1);
    CHECK_OK(ctx, clae_tensor_write(ctx, clae_model_input(m), x, n));
    free(x);
}

static float *read_output(clae_ctx *ctx, clae_model *m, int rows)
{
    size_t n = (size_t)rows * clae_shape_sample(m->input);
    float *y = malloc(n * sizeof *y);
    CHECK_OK(ctx, clae_tensor_read(ctx, clae_model_output(m), y, n));
    return y;
}

static void assert_same(const float *a, const float *b, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(&a[i], &b[i], sizeof(float)) != 0)
            fail_msg("%s: value %zu is %.9g, expected %.9g", what, i, b[i], a[i]);
}

/* A trained-looking model (a training forward moves the batch-norm statistics), saved. */
static float *save_model(clae_ctx *ctx, const char *ckpt, int rows)
{
    clae_config cfg;
    clae_model m;
    clae_err err;
    config_of("k5.ini", NET(5), &cfg);
    build(ctx, &cfg, &m);
    CHECK_OK(ctx, clae_model_init_params(&m, ctx, 7));
    random_input(ctx, &m, rows, 11);
    CHECK_OK(ctx, clae_model_forward(&m, ctx, rows, true));
    CHECK_OK(ctx, clae_model_forward(&m, ctx, rows, false));
    float *y = read_output(ctx, &m, rows);
    clae_ckpt_meta pos = {.epoch = 4, .best_val = 0.5};
    if (clae_model_save(ckpt, &m, ctx, &cfg, &pos, NULL, &err)) fail_msg("%s", err.msg);
    clae_model_release(&m);
    clae_config_free(&cfg);
    return y;
}

static void test_load_alone(void **state)
{
    clae_ctx *ctx = *state;
    char ckpt[300];
    snprintf(ckpt, sizeof ckpt, "%s/model.bin", dir);
    float *want = save_model(ctx, ckpt, 4);
    clae_saved_model s;
    clae_err err;
    clae_load_opts o = {.max_batch = 4};
    if (clae_model_load(&s, ctx, ckpt, &o, &err)) fail_msg("%s", err.msg);
    assert_int_equal(s.meta.epoch, 4);
    assert_int_equal(s.model.max_batch, 4);
    assert_int_equal(s.model.input.h, 12);
    random_input(ctx, &s.model, 4, 11);
    CHECK_OK(ctx, clae_model_forward(&s.model, ctx, 4, false));
    float *got = read_output(ctx, &s.model, 4);
    assert_same(want, got, 4 * 144, "the loaded model's output (running statistics included)");
    free(got);
    assert_int_not_equal(clae_model_forward(&s.model, ctx, 5, false),
                         0); /* more rows than loaded for */
    clae_saved_model_release(&s);
    free(want);
}

static void test_encode_then_decode(void **state)
{
    clae_ctx *ctx = *state;
    clae_config cfg;
    clae_model m;
    config_of("k5.ini", NET(5), &cfg);
    build(ctx, &cfg, &m);
    CHECK_OK(ctx, clae_model_init_params(&m, ctx, 5));
    random_input(ctx, &m, 3, 2);
    CHECK_OK(ctx, clae_model_forward(&m, ctx, 3, false));
    float *whole = read_output(ctx, &m, 3);
    CHECK_OK(ctx, clae_op_fill(ctx, clae_model_output(&m), 3 * 144, -1.0f));
    int code = clae_model_code_index(&m);
    CHECK_OK(ctx, clae_model_forward_range(&m, ctx, 0, code, 3, false));
    float z[3 * 6];
    CHECK_OK(ctx, clae_tensor_read(ctx, clae_model_code(&m), z, 3 * 6));
    /* the code alone decodes to the same output */
    CHECK_OK(ctx, clae_op_fill(ctx, clae_model_input(&m), 3 * 144, 0.0f));
    CHECK_OK(ctx, clae_tensor_write(ctx, clae_model_code(&m), z, 3 * 6));
    CHECK_OK(ctx,
             clae_model_forward_range(&m, ctx, code + 1, clae_model_output_index(&m), 3, false));
    float *parts = read_output(ctx, &m, 3);
    assert_same(whole, parts, 3 * 144, "encode then decode against a whole pass");
    free(whole);
    free(parts);
    assert_int_not_equal(clae_model_forward_range(&m, ctx, 0, m.n_layers, 3, false), 0);
    clae_model_release(&m);
    clae_config_free(&cfg);
}

static void test_other_architecture_refused(void **state)
{
    clae_ctx *ctx = *state;
    char ckpt[300];
    snprintf(ckpt, sizeof ckpt, "%s/k5.bin", dir);
    free(save_model(ctx, ckpt, 2));
    clae_config cfg;
    clae_model m;
    config_of("k3.ini", NET(3), &cfg);
    build(ctx, &cfg, &m);
    clae_ckpt_meta meta;
    clae_ckpt_data d;
    clae_err err;
    assert_int_not_equal(clae_model_read(ckpt, &m, ctx, &meta, &d, &err), 0);
    char want[700];
    snprintf(want, sizeof want,
             "%s: the checkpoint holds another model: line 2 is \"[encoder.c1] conv channels=3 "
             "kernel=5 stride=1 "
             "padding=2 dilation=1 activation=relu bias=true slope=0.01\" there but \"[encoder.c1] "
             "conv channels=3 "
             "kernel=3 stride=1 padding=2 dilation=1 activation=relu bias=true slope=0.01\" in the "
             "config",
             ckpt);
    assert_string_equal(err.msg, want);
    clae_model_release(&m);
    clae_config_free(&cfg);
    /* a renamed layer with the same keys still loads; a training-only key may differ too */
    config_of(
        "renamed.ini",
        "[encoder.conv_a]\ntype = conv\nchannels = 3\nkernel = 5\npadding = 2\nactivation = relu\n"
        "algo = direct\n[encoder.bn]\ntype = batch_norm\nmomentum = 0.5\n[encoder.pool]\n"
        "type = max_pool\nkernel = 2\n[encoder.flat]\ntype = flatten\n[encoder.code]\n"
        "type = dense\nunits = 6\nactivation = tanh\n[decoder.fc]\ntype = dense\nunits = 144\n"
        "activation = sigmoid\n",
        &cfg);
    build(ctx, &cfg, &m);
    if (clae_model_read(ckpt, &m, ctx, &meta, &d, &err)) fail_msg("%s", err.msg);
    clae_ckpt_data_free(&d);
    clae_model_release(&m);
    clae_config_free(&cfg);
}

static void test_corrupt_checkpoint(void **state)
{
    clae_ctx *ctx = *state;
    char ckpt[300];
    snprintf(ckpt, sizeof ckpt, "%s/flip.bin", dir);
    free(save_model(ctx, ckpt, 2));
    FILE *f = fopen(ckpt, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, 200, SEEK_SET), 0); /* inside the config text */
    int c = fgetc(f);
    assert_int_equal(fseek(f, 200, SEEK_SET), 0);
    fputc(c ^ 1, f);
    assert_int_equal(fclose(f), 0);
    clae_saved_model s;
    clae_err err;
    assert_int_not_equal(clae_model_load(&s, ctx, ckpt, NULL, &err), 0);
    assert_non_null(strstr(err.msg, "checksum mismatch"));
    /* the header is covered too: the epoch (bytes 56..59) changed alone is caught */
    free(save_model(ctx, ckpt, 2));
    f = fopen(ckpt, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, 56, SEEK_SET), 0);
    fputc(0x7F, f);
    assert_int_equal(fclose(f), 0);
    assert_int_not_equal(clae_model_load(&s, ctx, ckpt, NULL, &err), 0);
    assert_non_null(strstr(err.msg, "checksum mismatch"));
    assert_int_not_equal(clae_model_load(&s, ctx, "/nonexistent/x.bin", NULL, &err), 0);
    assert_string_equal(err.msg,
                        "/nonexistent/x.bin: cannot open checkpoint: No such file or directory");
    /* a training position a counter would overflow on (optim_step INT64_MAX made the step
     * count wrap), or that contradicts itself, is refused even with a valid checksum */
    const clae_ckpt_meta bad[] = {{.optim_step = INT64_MAX, .epoch = 1},
                                  {.optim_step = 10, .epoch = INT32_MAX},
                                  {.optim_step = 10, .epoch = 2, .since_best = 3},
                                  {.optim_step = 10, .epoch = 1, .epoch_step = 11}};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        float p[1] = {0};
        clae_ckpt_data d = {.config = "x", .layers = "y", .params = p};
        clae_ckpt_meta m = bad[k];
        m.n_params = 1, m.input_c = m.input_h = m.input_w = 1;
        assert_int_equal(clae_ckpt_save(ckpt, &m, &d, &err), 0);
        clae_ckpt_meta got;
        clae_ckpt_data back;
        assert_int_not_equal(clae_ckpt_load(ckpt, &got, &back, &err), 0);
        assert_non_null(strstr(err.msg, "training position out of range"));
    }
}

/* A layer that asks for a side input gets the bound tensor, and says so when unbound. */
static void test_side_inputs(void **state)
{
    clae_ctx *ctx = *state;
    clae_config cfg;
    clae_model m;
    clae_err err;
    config_of("k5.ini", NET(5), &cfg);
    build(ctx, &cfg, &m);
    CHECK_OK(ctx, clae_model_init_params(&m, ctx, 5));
    m.layers[1].side_input = 2; /* as a graph layer's setup would ask */
    assert_int_not_equal(clae_model_forward(&m, ctx, 2, false), 0);
    char want[400];
    snprintf(
        want, sizeof want,
        "%s/k5.ini:10: [encoder.bn] reads side input 2, which is not bound (clae_model_bind_side)",
        dir);
    assert_string_equal(ctx->err.msg, want);
    clae_tensor adjacency = m.y[0];
    assert_int_not_equal(clae_model_bind_side(&m, CLAE_MAX_SIDE_INPUTS, &adjacency, &err), 0);
    if (clae_model_bind_side(&m, 2, &adjacency, &err)) fail_msg("%s", err.msg);
    CHECK_OK(ctx, clae_model_forward(&m, ctx, 2, false));
    assert_ptr_equal(m.layers[1].side->arena, adjacency.arena);
    assert_int_equal(m.layers[1].side->off, adjacency.off);
    assert_null(m.layers[0].side);
    clae_model_release(&m);
    clae_config_free(&cfg);
}

/* Sparse code and a classifier head: every term of the objective. */
#define HEADED                                                        \
    "[train]\nbatch_size = 6\nlatent_l1 = 0.01\nlambda = 0.5\n"       \
    "[encoder.fc]\ntype = dense\nunits = 9\nactivation = relu\n"      \
    "[decoder.fc]\ntype = dense\nunits = 784\nactivation = sigmoid\n" \
    "[classifier.fc]\ntype = dense\nunits = 4\n"

/* The trainer's components on the workload's batch: a train step as clae train runs it. */
static void train_step_metrics(clae_ctx *ctx, const clae_config *cfg, const clae_workload *wl,
                               clae_metrics *out)
{
    clae_model m;
    clae_objective o;
    clae_optim opt;
    clae_err err;
    if (clae_model_build(&m, ctx, (clae_shape){1, 1, 28, 28}, cfg->layers, cfg->n_layers, 6,
                         &err) ||
        clae_objective_open(&o, ctx, cfg, &m, &err))
        fail_msg("%s", err.msg);
    m.seed = (uint64_t)cfg->train.seed;
    clae_optim_cfg oc = clae_config_optim(cfg);
    CHECK_OK(ctx, clae_optim_create(&opt, ctx, &oc, m.params.capacity));
    CHECK_OK(ctx, clae_model_init_params(&m, ctx, 1));
    CHECK_OK(ctx, clae_op_copy(ctx, clae_model_input(&m), clae_model_input((clae_model *)&wl->m),
                               6 * 784));
    clae_batch b = wl->batch;
    b.noise_seed = clae_mix_seed((uint64_t)cfg->train.seed, 0);
    CHECK_OK(ctx, clae_train_step(&m, &o, &opt, &b, 0, cfg->train.lr));
    float acc[CLAE_ACC_FLOATS];
    CHECK_OK(ctx, clae_objective_read(&o, true, acc));
    clae_objective_finish(&o, acc, 6, 1, true, out);
    clae_objective_close(&o);
    clae_optim_release(&opt);
    clae_model_release(&m);
}

static void test_bench_step_is_the_train_step(void **state)
{
    clae_ctx *ctx = *state;
    clae_config cfg;
    clae_workload wl;
    clae_err err;
    config_of("headed.ini", HEADED, &cfg);
    if (clae_workload_open(&wl, ctx, &cfg, &err)) fail_msg("%s", err.msg);
    clae_metrics train, bench;
    train_step_metrics(ctx, &cfg, &wl, &train); /* before the workload's step changes its input */
    CHECK_OK(ctx, clae_workload_step(&wl));
    CHECK_OK(ctx, clae_workload_metrics(&wl, 1, &bench));
    assert_true(train.v[CLAE_METRIC_CE] > 0 && train.v[CLAE_METRIC_PENALTY] > 0);
    const clae_metric_id ids[] = {CLAE_METRIC_LOSS, CLAE_METRIC_CE, CLAE_METRIC_ACCURACY,
                                  CLAE_METRIC_PENALTY};
    for (int i = 0; i < 4; i++)
        if (memcmp(&train.v[ids[i]], &bench.v[ids[i]], sizeof(double)) != 0)
            fail_msg("metric %d: bench %.9g, train %.9g", (int)ids[i], bench.v[ids[i]],
                     train.v[ids[i]]);
    clae_workload_close(&wl);
    clae_config_free(&cfg);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/clae_test_model_file_%d", (int)getpid());
    char cmd[300];
    snprintf(cmd, sizeof cmd, "mkdir -p %s", dir);
    if (system(cmd) != 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_alone),
        cmocka_unit_test(test_encode_then_decode),
        cmocka_unit_test(test_other_architecture_refused),
        cmocka_unit_test(test_corrupt_checkpoint),
        cmocka_unit_test(test_bench_step_is_the_train_step),
        cmocka_unit_test(test_side_inputs),
    };
    int failed = cmocka_run_group_tests(tests, test_ctx_setup, test_ctx_teardown);
    test_remove_tree(dir);
    return failed;
}
