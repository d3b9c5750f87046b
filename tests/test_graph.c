/* Graphs: reading edge lists, features and labels (and their errors), the
 * edge split (disjoint, complete, reproducible), A_hat, the sampled pairs, and
 * the graph trainer's gradient (the inner-product decoder and its weighted
 * loss through the encoder) against central finite differences. */
#include <math.h>
#include <unistd.h>

#include "clae/graph_train.h"
#include "helpers.h"

static char dir[] = "/tmp/clae_test_graph_XXXXXX";

static const char *write_file(const char *name, const char *text)
{
    return test_write_file(dir, name, text);
}

static void test_load(void **state)
{
    (void)state;
    const char *edges = write_file("e.txt", "# a comment\n"
                                            "a b\n"
                                            "b,c   # trailing\n"
                                            "\n"
                                            "c\ta\n"
                                            "b a\n" /* a duplicate, reversed */
                                            "d d\n" /* a self-loop */
                                            " c , e \n");
    const char *feats = write_file("f.csv", "id,x,y\na,1,2\nb,3,4\nc,5,6\nd,7,8\ne,9,10\nf,0,1\n");
    const char *labels = write_file("l.csv", "id,label\na,red\nc,blue\ne,red\n");
    clae_graph g;
    clae_err err;
    if (clae_graph_load(&g, edges, feats, labels, &err)) fail_msg("%s", err.msg);
    assert_int_equal(g.n_nodes, 6); /* a b c d e, and f from the features */
    assert_int_equal(g.n_edges, 4);
    assert_int_equal(g.self_loops, 1);
    assert_int_equal(g.duplicates, 1);
    assert_int_equal(g.lines, 6);
    assert_int_equal(g.feature_only, 1);
    assert_string_equal(g.names[0], "a");
    assert_string_equal(g.names[3], "d");
    assert_string_equal(g.names[4], "e");
    uint32_t want_u[] = {0, 1, 0, 2}, want_v[] = {1, 2, 2, 4};
    for (int k = 0; k < 4; k++) {
        assert_int_equal(g.u[k], want_u[k]);
        assert_int_equal(g.v[k], want_v[k]);
    }
    assert_int_equal(g.n_features, 2);
    assert_true(g.features[4 * 2 + 1] == 10.0f && g.features[5 * 2] == 0.0f);
    assert_int_equal(g.n_classes, 2);
    assert_int_equal(g.labels[0], 0);
    assert_int_equal(g.labels[1], -1);
    assert_int_equal(g.labels[2], 1);
    assert_string_equal(g.class_names[1], "blue");
    clae_graph_free(&g);
}

static void expect_error(const char *edges, const char *feats, const char *labels, const char *want)
{
    clae_graph g;
    clae_err err;
    assert_int_equal(clae_graph_load(&g, edges, feats, labels, &err), -1);
    if (!strstr(err.msg, want)) fail_msg("error '%s' does not contain '%s'", err.msg, want);
}

static void test_load_errors(void **state)
{
    (void)state;
    char want[300];
    const char *one = write_file("one.txt", "a b\nc\n");
    snprintf(want, sizeof want, "%s:2: expected two node ids", one);
    expect_error(one, NULL, NULL, want);
    const char *three = write_file("three.txt", "a b c\n");
    expect_error(three, NULL, NULL, "found more than two fields");
    expect_error(write_file("empty.txt", "# nothing\n\nx x\n"), NULL, NULL, "no edges");
    expect_error("/nonexistent/edges.txt", NULL, NULL, "/nonexistent/edges.txt");
    const char *ok = write_file("ok.txt", "a b\nb c\n");
    expect_error(ok, write_file("f1.csv", "a,1\nb,2\n"), NULL, "node 'c' of the graph has no");
    expect_error(ok, write_file("f2.csv", "a,1\nb,2,3\n"), NULL, ":2: 2 features, the first");
    expect_error(ok, write_file("f3.csv", "a,1\nb,x\nc,3\n"), NULL, ":2: column 2 is not a");
    expect_error(ok, write_file("f4.csv", "a,1\na,2\n"), NULL, "second features row");
    expect_error(ok, NULL, write_file("l1.csv", "a,x\nzz,y\n"), ":2: node 'zz' is not in");
    expect_error(ok, NULL, write_file("l2.csv", "a,x\na,y\n"), "second label");
    expect_error(ok, NULL, write_file("l3.csv", "a,x,y\n"), ":1: expected 'id,label'");
}

/* A ring of n nodes with chords: 2n edges. */
static void ring_graph(clae_graph *g, uint32_t n)
{
    char *text = malloc((size_t)n * 40), *p = text;
    for (uint32_t k = 0; k < n; k++)
        p += sprintf(p, "n%u n%u\nn%u n%u\n", k, (k + 1) % n, k, (k + 7) % n);
    clae_err err;
    if (clae_graph_load(g, write_file("ring.txt", text), NULL, NULL, &err)) fail_msg("%s", err.msg);
    free(text);
}

static void test_split(void **state)
{
    (void)state;
    clae_graph g;
    ring_graph(&g, 200);
    assert_int_equal(g.n_edges, 400);
    clae_edge_split s, again, other;
    clae_err err;
    assert_int_equal(clae_graph_split_edges(&g, 0.05, 0.1, 3, &s, &err), 0);
    assert_int_equal(s.val.n, 2 * 20);
    assert_int_equal(s.test.n, 2 * 40);
    assert_int_equal(s.n_train, 340);
    clae_edge_set *all, *seen, *negatives;
    assert_int_equal(clae_edge_set_create(&all, g.u, g.v, g.n_edges, &err), 0);
    assert_int_equal(clae_edge_set_create(&seen, NULL, NULL, 0, &err), 0);
    assert_int_equal(clae_edge_set_create(&negatives, NULL, NULL, 0, &err), 0);
    for (uint32_t k = 0; k < s.n_train; k++)
        assert_int_equal(clae_edge_set_add(seen, s.train_u[k], s.train_v[k]), 1);
    const clae_pairs *ps[2] = {&s.val, &s.test};
    for (int j = 0; j < 2; j++)
        for (size_t i = 0; i < ps[j]->n; i++) {
            bool pos = ps[j]->positive[i];
            assert_int_equal(pos, i < ps[j]->n / 2);
            assert_int_equal(clae_edge_set_has(all, ps[j]->u[i], ps[j]->v[i]), pos);
            assert_true(ps[j]->u[i] != ps[j]->v[i]);
            /* every edge once over the splits, every non-edge once over val and test */
            assert_int_equal(clae_edge_set_add(pos ? seen : negatives, ps[j]->u[i], ps[j]->v[i]),
                             1);
        }
    for (uint32_t k = 0; k < g.n_edges; k++) assert_true(clae_edge_set_has(seen, g.u[k], g.v[k]));
    assert_int_equal(clae_graph_split_edges(&g, 0.05, 0.1, 3, &again, &err), 0);
    assert_int_equal(clae_graph_split_edges(&g, 0.05, 0.1, 4, &other, &err), 0);
    assert_memory_equal(s.train_u, again.train_u, s.n_train * sizeof(uint32_t));
    assert_memory_equal(s.test.v, again.test.v, s.test.n * sizeof(uint32_t));
    assert_true(memcmp(s.train_u, other.train_u, s.n_train * sizeof(uint32_t)) != 0);
    clae_edge_split_free(&other);
    assert_int_equal(clae_graph_split_edges(&g, 0.001, 0.1, 3, &other, &err), -1);
    assert_non_null(strstr(err.msg, "cannot be split"));
    clae_edge_set_free(all);
    clae_edge_set_free(seen);
    clae_edge_set_free(negatives);
    clae_edge_split_free(&s);
    clae_edge_split_free(&again);
    clae_graph_free(&g);
}

static void test_csr(void **state)
{
    (void)state;
    /* a path 0-1-2 and an isolated node 3: degrees with self-loops 2, 3, 2, 1 */
    uint32_t u[] = {1, 0}, v[] = {2, 1};
    clae_csr c;
    clae_err err;
    assert_int_equal(clae_csr_gcn(4, u, v, 2, &c, &err), 0);
    assert_int_equal(c.nnz, 2 * 2 + 4);
    uint32_t rp[] = {0, 2, 5, 7, 8}, col[] = {0, 1, 0, 1, 2, 1, 2, 3};
    double d[] = {2, 3, 2, 1};
    assert_memory_equal(c.row_ptr, rp, sizeof rp);
    assert_memory_equal(c.col, col, sizeof col);
    for (uint32_t r = 0; r < 4; r++)
        for (uint32_t k = c.row_ptr[r]; k < c.row_ptr[r + 1]; k++)
            assert_float_equal(c.val[k], 1.0 / sqrt(d[r] * d[c.col[k]]), 1e-7);
    clae_csr_free(&c);
    /* sampled pairs: every edge in both rows with value 1, k non-edges each with value 0 */
    clae_graph g;
    ring_graph(&g, 50);
    clae_edge_set *set;
    assert_int_equal(clae_edge_set_create(&set, g.u, g.v, g.n_edges, &err), 0);
    assert_int_equal(clae_sample_pairs(g.n_nodes, g.u, g.v, g.n_edges, set, 2, 9, &c, &err), 0);
    assert_int_equal(c.nnz, 2 * 3 * g.n_edges);
    size_t ones = 0;
    for (uint32_t r = 0; r < c.n; r++)
        for (uint32_t k = c.row_ptr[r]; k < c.row_ptr[r + 1]; k++) {
            assert_true(c.col[k] != r);
            assert_int_equal(clae_edge_set_has(set, r, c.col[k]), c.val[k] == 1.0f);
            ones += c.val[k] == 1.0f;
        }
    assert_int_equal(ones, 2 * g.n_edges);
    clae_csr_free(&c);
    clae_edge_set_free(set);
    clae_graph_free(&g);
}

/* A config on a ring graph with a model section appended. */
static void open_trainer(clae_ctx *ctx, clae_graph_trainer *t, clae_config *cfg, int negatives,
                         const char *latent, const char *features)
{
    char text[2048], *edges = malloc(4096), *p = edges;
    for (int k = 0; k < 9; k++) p += sprintf(p, "%d %d\n%d %d\n", k, (k + 1) % 9, k, (k + 4) % 9);
    snprintf(text, sizeof text,
             "[model]\ninit = glorot\n[data]\nformat = graph\npath = %s\nfeatures = %s\n"
             "split = 0.7,0.1,0.2\n"
             "[train]\nnegatives = %d\n[encoder.g1]\ntype = gcn\nunits = 4\nactivation = tanh\n"
             "%s[decoder.ip]\ntype = inner_product\n",
             write_file("g.txt", edges), features, negatives, latent);
    clae_err err;
    if (clae_config_load(cfg, write_file("g.ini", text), NULL, 0, &err) ||
        clae_graph_trainer_open(t, ctx, cfg, &err))
        fail_msg("%s", err.msg);
    free(edges);
}

static double loss_at(clae_ctx *ctx, clae_graph_trainer *t)
{
    CHECK_OK(ctx, clae_graph_trainer_gradient(t));
    return t->train_metrics.v[CLAE_METRIC_LOSS];
}

static void check_gradient(clae_ctx *ctx, int negatives, const char *latent, const char *features)
{
    clae_graph_trainer t;
    clae_config cfg;
    open_trainer(ctx, &t, &cfg, negatives, latent, features);
    size_t n = t.model.params.capacity;
    float *w = malloc(n * sizeof *w), *g = malloc(n * sizeof *g);
    clae_tensor all = {&t.model.params, 0, {1, 1, 1, 1}}, grads = {&t.model.grads, 0, {1, 1, 1, 1}};
    loss_at(ctx, &t);
    CHECK_OK(ctx, clae_tensor_read(ctx, &all, w, n));
    CHECK_OK(ctx, clae_tensor_read(ctx, &grads, g, n));
    const float eps = 1e-2f;
    for (size_t i = 0; i < t.model.n_params; i++) {
        float keep = w[i];
        w[i] = keep + eps;
        CHECK_OK(ctx, clae_tensor_write(ctx, &all, w, n));
        double lp = loss_at(ctx, &t);
        w[i] = keep - eps;
        CHECK_OK(ctx, clae_tensor_write(ctx, &all, w, n));
        double lm = loss_at(ctx, &t), d = (lp - lm) / (2.0 * eps);
        w[i] = keep;
        CHECK_OK(ctx, clae_tensor_write(ctx, &all, w, n));
        if (fabs(d - g[i]) > 2e-4 + 2e-2 * fabs(d))
            fail_msg("negatives %d, %s: parameter %zu: gradient %.6g, finite differences %.6g",
                     negatives, latent, i, g[i], d);
    }
    free(w);
    free(g);
    clae_graph_trainer_close(&t);
    clae_config_free(&cfg);
}

static void test_trainer_gradient(void **state)
{
    const char *gae = "[latent.g2]\ntype = gcn\nunits = 3\nbias = false\n",
               *vgae = "[latent.z]\ntype = vae\nunits = 2\ngraph = true\n";
    char feats[512] = "", *p = feats;
    for (int k = 0; k < 9; k++) p += sprintf(p, "%d,%g,%g\n", k, 0.1 * k, 1.0 - 0.2 * (k % 3));
    char features[256]; /* write_file's names are reused */
    snprintf(features, sizeof features, "%s", write_file("feats.csv", feats));
    check_gradient(*state, 0, gae, "");
    check_gradient(*state, 0, vgae, "");
    check_gradient(*state, 2, gae, "");
    check_gradient(*state, 0, gae, features);
    check_gradient(*state, 1, vgae, features);
}

static int setup(void **state)
{
    if (!mkdtemp(dir)) return -1;
    return test_ctx_setup(state);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_csr),
        cmocka_unit_test(test_trainer_gradient),
    };
    int rc = cmocka_run_group_tests_name("graph", tests, setup, test_ctx_teardown);
    test_remove_tree(dir);
    return rc;
}
