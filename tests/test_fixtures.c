/* Forward values against PyTorch 1.13 (tests/fixtures/torch_layers.txt, made
 * by make_torch_fixtures.py): conv, conv-transpose with output_padding 0 and 1,
 * dilation, max and average pooling, nearest and bilinear upsampling. Each
 * case's layer line goes through the INI parser, as a user's config would. */
#include <math.h>
#include <unistd.h>

#include "clae/config.h"
#include "helpers.h"

static const char *fixture_path;

typedef struct {
    char name[64], layer[512];
    int in[4], out[4];
    float *x, *w, *b, *y, *state, *state_after; /* state: batch norm running mean, var */
    int nx, nw, nb, ny, nstate;
    bool train;
} fixture_case;

static float *read_values(FILE *f, int n)
{
    float *v = malloc(((size_t)n + 1) * sizeof *v);
    for (int i = 0; i < n; i++)
        if (fscanf(f, "%f", &v[i]) != 1) fail_msg("fixture: expected %d values", n);
    return v;
}

/* Reads "TAG COUNT values" when the next word is tag; leaves the stream as it was otherwise. */
static float *read_optional(FILE *f, const char *tag, int *n)
{
    long at = ftell(f);
    char t[16];
    if (fscanf(f, " %15s", t) == 1 && strcmp(t, tag) == 0 && fscanf(f, "%d", n) == 1)
        return read_values(f, *n);
    fseek(f, at, SEEK_SET);
    *n = 0;
    return NULL;
}

static float *read_tagged(FILE *f, const char *tag, int *n)
{
    char t[16];
    if (fscanf(f, "%15s %d", t, n) != 2 || strcmp(t, tag) != 0)
        fail_msg("fixture: expected '%s COUNT'", tag);
    return read_values(f, *n);
}

/* Next case, or 0 at the end of the file. */
static int next_case(FILE *f, fixture_case *c)
{
    char word[16];
    memset(c, 0, sizeof *c);
    if (fscanf(f, " case %63s", c->name) != 1) return 0;
    if (fscanf(f, " layer %511[^\n]", c->layer) != 1) fail_msg("%s: no layer line", c->name);
    if (fscanf(f, " input %d %d %d %d", &c->in[0], &c->in[1], &c->in[2], &c->in[3]) != 4)
        fail_msg("%s: input", c->name);
    c->x = read_tagged(f, "x", &c->nx);
    c->w = read_tagged(f, "w", &c->nw);
    c->b = read_tagged(f, "b", &c->nb);
    c->state = read_optional(f, "state", &c->nstate);
    if (fscanf(f, " %15s %d %d %d %d", word, &c->out[0], &c->out[1], &c->out[2], &c->out[3]) != 5)
        fail_msg("%s: y", c->name);
    c->ny = c->out[0] * c->out[1] * c->out[2] * c->out[3];
    c->y = read_values(f, c->ny);
    int n_after;
    c->state_after = read_optional(f, "state_after", &n_after);
    c->train = !strstr(c->layer, "mode=eval");
    return 1;
}

/* "conv channels=5 kernel=3" -> an INI file with one [encoder.t] section. */
static void layer_config(const fixture_case *c, clae_config *cfg)
{
    char path[128], type[32], rest[512] = "";
    snprintf(path, sizeof path, "/tmp/clae-fixture-%ld.ini", (long)getpid());
    FILE *f = fopen(path, "w");
    sscanf(c->layer, "%31s %511[^\n]", type, rest);
    fprintf(f, "[encoder.t]\ntype = %s\n", type);
    for (char *save = NULL, *kv = strtok_r(rest, " ", &save); kv; kv = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(kv, '=');
        *eq = 0;
        if (strcmp(type, "batch_norm") == 0 && strcmp(kv, "mode") == 0)
            continue; /* train/eval, not a key */
        fprintf(f, "%s = %s\n", kv, eq + 1);
    }
    fclose(f);
    clae_err err;
    if (clae_config_load(cfg, path, NULL, 0, &err)) fail_msg("%s: %s", c->name, err.msg);
    unlink(path);
}

static void run_case(clae_ctx *ctx, fixture_case *c, int algo)
{
    clae_config cfg;
    layer_config(c, &cfg);
    cfg.layers[0].algo = algo;
    clae_model m;
    clae_err err;
    clae_shape in = {1, c->in[1], c->in[2], c->in[3]};
    if (clae_model_build_stack(&m, ctx, in, cfg.layers, 1, c->in[0], false, &err))
        fail_msg("%s: %s", c->name, err.msg);
    clae_layer *l = &m.layers[0];
    assert_int_equal(l->out.c, c->out[1]);
    assert_int_equal(l->out.h, c->out[2]);
    assert_int_equal(l->out.w, c->out[3]);
    assert_int_equal(l->n_w, c->nw);
    assert_int_equal(l->n_b, c->nb);
    CHECK_OK(ctx, clae_tensor_write(ctx, &m.x, c->x, (size_t)c->nx));
    if (c->nw) CHECK_OK(ctx, clae_tensor_write(ctx, &l->w, c->w, (size_t)c->nw));
    if (c->nb) CHECK_OK(ctx, clae_tensor_write(ctx, &l->b, c->b, (size_t)c->nb));
    assert_int_equal(l->n_state, c->nstate);
    if (c->nstate) CHECK_OK(ctx, clae_tensor_write(ctx, &l->state, c->state, (size_t)c->nstate));
    CHECK_OK(ctx, clae_model_forward(&m, ctx, c->in[0], c->train));
    float *y = malloc((size_t)c->ny * sizeof *y);
    CHECK_OK(ctx, clae_tensor_read(ctx, &m.y[0], y, (size_t)c->ny));
    for (int i = 0; i < c->ny; i++)
        if (fabsf(y[i] - c->y[i]) > 1e-5f + 1e-5f * fabsf(c->y[i]))
            fail_msg("%s: y[%d] = %.7g, PyTorch %.7g", c->name, i, y[i], c->y[i]);
    if (c->state_after) { /* running statistics after the step, unbiased variance, as PyTorch */
        float st[64];
        CHECK_OK(ctx, clae_tensor_read(ctx, &l->state, st, (size_t)c->nstate));
        for (int i = 0; i < c->nstate; i++)
            if (fabsf(st[i] - c->state_after[i]) > 1e-5f + 1e-5f * fabsf(c->state_after[i]))
                fail_msg("%s: running state[%d] = %.7g, PyTorch %.7g", c->name, i, st[i],
                         c->state_after[i]);
    }
    print_message("%-26s %-6s %5d values match\n", c->name, l->direct ? "direct" : "im2col", c->ny);
    free(y);
    clae_model_release(&m);
    clae_config_free(&cfg);
}

static void test_torch_fixtures(void **state)
{
    FILE *f = fopen(fixture_path, "r");
    if (!f) fail_msg("cannot open %s", fixture_path);
    char header[256];
    if (!fgets(header, sizeof header, f)) fail_msg("empty fixture file");
    fixture_case c;
    int cases = 0;
    while (next_case(f, &c)) {
        run_case(*state, &c, 1);
        if (strncmp(c.name, "conv", 4) == 0) run_case(*state, &c, 2); /* both algorithms */
        free(c.x), free(c.w), free(c.b), free(c.y), free(c.state), free(c.state_after);
        cases++;
    }
    fclose(f);
    assert_int_equal(cases, 26);
}

int main(int argc, char **argv)
{
    fixture_path = argc > 1 ? argv[1] : "tests/fixtures/torch_layers.txt";
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_torch_fixtures)};
    return cmocka_run_group_tests_name("fixtures", tests, test_ctx_setup, test_ctx_teardown);
}
