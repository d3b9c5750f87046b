/* Config parsing: values, defaults, overrides, the resolved config round trip,
 * and the one-line errors (file:line, key, what is expected). */
#include <sys/stat.h>
#include <unistd.h>

#include "clae/config.h"
#include "helpers.h"

static char dir[256];

static const char *GOOD =
    "[model]\nname = tiny\n\n[train]\nepochs = 2\nlr = 0.01 ; inline comment\n"
    "optimizer = SGD\nnesterov = yes\n\n"
    "[encoder.fc1]\ntype = dense\nunits = 7\nactivation = leaky_relu\nslope = 0.2\n\n"
    "[encoder.act]\ntype = tanh\n\n"
    "[latent.code]\ntype = dense\nunits = 3\nbias = false\n\n"
    "[decoder.out]\ntype = dense\nunits = 784\nactivation = sigmoid\n\n"
    "[decoder.shape]\ntype = reshape\nshape = 4x14x14\n\n"
    "[decoder.up]\ntype = upsample\nscale = 2\nmode = bilinear\n\n"
    "[decoder.conv]\ntype = conv_transpose\nchannels = 1\nkernel = 3\nstride = 1\npadding = 1\n\n"
    "[decoder.pool]\ntype = max_pool\nkernel = 3\n";

static void write_file(const char *name, const char *text, char *path, size_t n)
{
    snprintf(path, n, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_good(void **state)
{
    (void)state;
    char p[300];
    write_file("good.ini", GOOD, p, sizeof p);
    clae_config c;
    clae_err err;
    if (clae_config_load(&c, p, NULL, 0, &err)) fail_msg("%s", err.msg);
    assert_string_equal(c.model.name, "tiny");
    assert_int_equal(c.train.epochs, 2);
    assert_float_equal(c.train.lr, 0.01, 1e-12);
    assert_int_equal(c.train.optimizer, CLAE_OPT_SGD);
    assert_true(c.train.nesterov);
    assert_int_equal(c.train.batch_size, 64); /* default */
    assert_float_equal(c.data.val_fraction, 0.1, 1e-12);
    assert_int_equal(c.n_layers, 8);
    assert_int_equal(c.layers[4].type, CLAE_LAYER_RESHAPE);
    assert_int_equal(c.layers[4].shape.c, 4);
    assert_int_equal(c.layers[4].shape.w, 14);
    assert_int_equal(c.layers[5].mode, 1);
    assert_int_equal(c.layers[6].type, CLAE_LAYER_CONV_T);
    assert_int_equal(c.layers[6].dilation, 1); /* default */
    assert_int_equal(c.layers[7].stride, 3); /* pools: stride defaults to the kernel, as PyTorch */
    assert_string_equal(c.layers[0].section, "encoder.fc1");
    assert_int_equal(c.layers[0].act, CLAE_ACT_LEAKY_RELU);
    assert_float_equal(c.layers[0].slope, 0.2, 1e-6);
    assert_int_equal(c.layers[0].line, 10);
    assert_int_equal(c.layers[1].type, CLAE_LAYER_ACT);
    assert_int_equal(c.layers[1].act, CLAE_ACT_TANH);
    assert_int_equal(c.layers[2].role, CLAE_ROLE_LATENT);
    assert_false(c.layers[2].bias);
    assert_int_equal(c.layers[3].role, CLAE_ROLE_DECODER);
    clae_config_free(&c);
}

static void test_overrides(void **state)
{
    (void)state;
    char p[300];
    write_file("good.ini", GOOD, p, sizeof p);
    char *sets[] = {"train.lr=3e-4", "encoder.fc1.units=100", "data.train_limit=50",
                    "train.loss=bce"};
    clae_config c;
    clae_err err;
    if (clae_config_load(&c, p, sets, 4, &err)) fail_msg("%s", err.msg);
    assert_float_equal(c.train.lr, 3e-4, 1e-12);
    assert_int_equal(c.layers[0].units, 100);
    assert_int_equal(c.data.train_limit, 50);
    assert_int_equal(c.train.loss, CLAE_LOSS_BCE);
    clae_config_free(&c);
}

/* The resolved config loads back to the same values and writes the same text. */
static void test_resolved_round_trip(void **state)
{
    (void)state;
    char p[300], q[300], text1[8192] = {0}, text2[8192] = {0};
    write_file("good.ini", GOOD, p, sizeof p);
    char *sets[] = {"train.weight_decay=0.125", "model.init=kaiming"};
    clae_config c, d;
    clae_err err;
    assert_int_equal(clae_config_load(&c, p, sets, 2, &err), 0);
    for (int i = 0; i < c.n_layers; i++)
        assert_int_equal(c.layers[i].init, CLAE_INIT_KAIMING); /* model-wide */
    FILE *f = fmemopen(text1, sizeof text1 - 1, "w");
    clae_config_write(&c, f);
    fclose(f);
    write_file("resolved.ini", text1, q, sizeof q);
    if (clae_config_load(&d, q, NULL, 0, &err)) fail_msg("%s", err.msg);
    assert_float_equal(d.train.weight_decay, 0.125, 1e-12);
    assert_int_equal(d.model.init, CLAE_INIT_KAIMING);
    assert_int_equal(d.n_layers, c.n_layers);
    snprintf(d.path, sizeof d.path, "%s", c.path);
    f = fmemopen(text2, sizeof text2 - 1, "w");
    clae_config_write(&d, f);
    fclose(f);
    assert_string_equal(text1, text2);
    assert_non_null(strstr(
        text1, "train_images = /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"));
    clae_config_free(&c);
    clae_config_free(&d);
}

/* Loads text (with optional overrides) and expects an error containing each fragment. */
static void expect(const char *text, char *set, const char *frag1, const char *frag2)
{
    char p[300];
    write_file("bad.ini", text, p, sizeof p);
    char *sets[1] = {set};
    clae_config c;
    clae_err err = {0};
    assert_int_equal(clae_config_load(&c, p, sets, set ? 1 : 0, &err), -1);
    if (!strstr(err.msg, frag1) || (frag2 && !strstr(err.msg, frag2)))
        fail_msg("message '%s' lacks '%s' / '%s'", err.msg, frag1, frag2 ? frag2 : "");
    assert_null(strchr(err.msg, '\n')); /* one line */
}

#define LAYERS "[encoder.a]\ntype = dense\nunits = 4\n"

static void test_errors(void **state)
{
    (void)state;
    expect("[train]\nlrr = 1\n" LAYERS, NULL,
           "bad.ini:2: [train] lrr = 1: unknown key 'lrr' in [train]",
           "expected one of: epochs, batch_size");
    expect("[train]\nlr = abc\n" LAYERS, NULL,
           "bad.ini:2: [train] lr = abc: expected a number in [0, 10]", NULL);
    expect("[train]\n\nbatch_size = 0\n" LAYERS, NULL,
           "bad.ini:3: [train] batch_size = 0: out of range", "an integer in [1, 65536]");
    expect("[train]\nepochs = 2.5\n" LAYERS, NULL, "epochs = 2.5: expected an integer", NULL);
    expect("[train]\noptimizer = rmsprop\n" LAYERS, NULL,
           "optimizer = rmsprop: expected one of sgd|adam|adamw", NULL);
    expect("[model]\ninit = xavier\n" LAYERS, NULL,
           "bad.ini:2: [model] init = xavier: expected one of pytorch|kaiming", NULL);
    expect("[foo]\nx = 1\n" LAYERS, NULL, "bad.ini:1: unknown section [foo]", NULL);
    expect(LAYERS "[encoder.a]\nbias = true\n", NULL,
           "bad.ini:4: section [encoder.a] repeats (first at line 1)", NULL);
    expect("[train]\nlr = 1\nlr = 2\n" LAYERS, NULL,
           "bad.ini:3: [train] lr is set twice (first at line 2)", NULL);
    expect("[encoder.a]\ntype = dense\n", NULL,
           "bad.ini:1: [encoder.a] a dense layer needs 'units'", NULL);
    expect("[encoder.a]\ntype = conv9\n", NULL,
           "bad.ini:2: [encoder.a] type = conv9: unknown layer type",
           "dense|conv|conv_transpose|max_pool");
    expect("[encoder.a]\ntype = sigmoid\nslope = 0.1\n", NULL,
           "unknown key 'slope' for a sigmoid layer", NULL);
    expect("[encoder.a]\nunits = 3\n", NULL, "bad.ini:1: [encoder.a] has no 'type'", NULL);
    expect("[model]\nname = x\n", NULL, "no layer sections", NULL);
    expect("[train]\nthis line has no equals sign\n" LAYERS, NULL,
           "bad.ini:2: expected 'key = value'", NULL);
    char longline[400];
    snprintf(longline, sizeof longline, "[model]\nname = %0300d\n" LAYERS, 7);
    expect(longline, NULL, "bad.ini:2: line is 307 characters long", "shorten it");
    expect(LAYERS, "nope.x=1", "--set nope.x=1", "has no section [nope]");
    expect(LAYERS, "train.lr", "--set train.lr: expected section.key=value", NULL);
    expect("[train]\nclip_norm = 1\nclip_value = 2\n" LAYERS, NULL,
           "bad.ini:3: [train] clip_value = 2: set train.clip_norm or train.clip_value, not both",
           NULL);
    expect(LAYERS, "train.lr=fast", "--set train.lr=fast: expected a number", NULL);
    expect(LAYERS, "encoder.a.units=-3",
           "--set encoder.a.units=-3: out of range: expected an integer in [1, 10000000]", NULL);
    expect("[encoder.c]\ntype = conv\nkernel = 3\n", NULL,
           "bad.ini:1: [encoder.c] a conv layer needs 'channels'", NULL);
    expect("[encoder.c]\ntype = conv\nchannels = 4\nkernel = 3\nscale = 2\n", NULL,
           "bad.ini:5: [encoder.c] scale = 2: unknown key 'scale' for a conv layer",
           "channels, kernel, stride");
    expect("[decoder.r]\ntype = reshape\nshape = 3x4\n", NULL,
           "shape = 3x4: expected a shape CxHxW", NULL);
    expect("[decoder.u]\ntype = upsample\nscale = 2\nmode = cubic\n", NULL,
           "mode = cubic: expected one of nearest|bilinear", NULL);
    /* sscanf's %d took 4294967304 as 8: now every side is range-checked */
    expect("[data]\nimage = 3x4294967304x8\n" LAYERS, NULL,
           "bad.ini:2: [data] image = 3x4294967304x8: expected a shape CxHxW of integers from 1 "
           "to 65536",
           NULL);
    /* control bytes and over-long names, which inih would cut or which would split the message */
    expect("[train]\nlr = 1e-3\x01garbage\n" LAYERS, NULL,
           "bad.ini:2: byte 10 is 0x01, a control character: a config is text", NULL);
    expect("[train]\nlr = 1\r2\n" LAYERS, NULL, "bad.ini:2: byte 7 is 0x0D", NULL);
    expect(
        "[encoder.abcdefghijabcdefghijabcdefghijabcdefghijabcdefghij]\ntype = dense\nunits = 4\n",
        NULL, "bad.ini:1: a section name of 58 characters: at most 49", NULL);
    expect("[train]\nabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabc = 1\n" LAYERS, NULL,
           "bad.ini:2: a key of 53 characters: at most 49", NULL);
    expect(LAYERS, "train.lr=1\n2", "--set: byte 11 is 0x0A, a control character", NULL);
    /* the run directory stays inside out_dir */
    expect("[model]\nname = ../../escape\n" LAYERS, NULL,
           "bad.ini:2: [model] name = ../../escape: expected a name without '/'", NULL);
    expect(LAYERS, "model.name=..", "--set model.name=..: expected a name without '/'", NULL);
}

/* A NUL byte ended a line silently (lr = 1e-3\0garbage read as 0.001). */
static void test_nul_byte(void **state)
{
    (void)state;
    char p[300];
    snprintf(p, sizeof p, "%s/nul.ini", dir);
    FILE *f = fopen(p, "wb");
    static const char text[] = "[train]\nlr = 1e-3\0garbage\n" LAYERS;
    assert_int_equal(fwrite(text, 1, sizeof text - 1, f), sizeof text - 1);
    fclose(f);
    clae_config c;
    clae_err err;
    assert_int_equal(clae_config_load(&c, p, NULL, 0, &err), -1);
    assert_non_null(strstr(err.msg, "nul.ini:2: byte 10 is 0x00, a control character"));
    /* a folder or a FIFO given as the config is refused before it is opened */
    assert_int_equal(clae_config_load(&c, dir, NULL, 0, &err), -1);
    assert_non_null(strstr(err.msg, "is a folder, not a config file"));
    snprintf(p, sizeof p, "%s/fifo.ini", dir);
    assert_int_equal(mkfifo(p, 0644), 0);
    assert_int_equal(clae_config_load(&c, p, NULL, 0, &err), -1);
    assert_non_null(strstr(err.msg, "not a regular file"));
}

static void test_missing_file(void **state)
{
    (void)state;
    clae_config c;
    clae_err err;
    assert_int_equal(clae_config_load(&c, "/nonexistent/x.ini", NULL, 0, &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent/x.ini: cannot open config"));
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/clae-test-config-%ld", (long)getpid());
    if (mkdir(dir, 0755)) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_overrides),
        cmocka_unit_test(test_resolved_round_trip),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_nul_byte),
    };
    int rc = cmocka_run_group_tests_name("config", tests, NULL, NULL);
    test_remove_tree(dir);
    return rc;
}
