/* One fuzz input for clae's file readers: the first byte picks the reader
 * (byte % FUZZ_READERS: checkpoint, .npy, INI config, PNG, IDX, CSV table, a
 * folder's labels CSV, rANS-coded symbols, a graph's edge list, features and
 * labels), the rest is the file (or the
 * bytes). Each reader must return 0 or fail with one line (non-empty, no
 * newline), never crash, read out of bounds, hang or leak. A config line "--set X" is also applied
 * as an override. Shared by the libFuzzer harness (fuzz_readers.c) and the suite's seeded mutation
 * test (test_fuzz_readers.c). No device is needed. */
#ifndef CLAE_TEST_FUZZ_READERS_H
#define CLAE_TEST_FUZZ_READERS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clae/config.h"
#include "clae/data.h"
#include "clae/graph.h"
#include "clae/image.h"
#include "clae/io.h"
#include "clae/codec.h"
#include "clae/rans.h"

enum {
    FUZZ_CKPT,
    FUZZ_NPY,
    FUZZ_INI,
    FUZZ_PNG,
    FUZZ_IDX,
    FUZZ_CSV,
    FUZZ_LABELS,
    FUZZ_RANS,
    FUZZ_GRAPH,
    FUZZ_CLAE,
    FUZZ_CODEC,
    FUZZ_READERS
};
static const char *const fuzz_reader_names[FUZZ_READERS] = {
    "checkpoint", "npy", "ini", "png", "idx", "csv", "labels", "rans", "graph", "clae", "codec"};

/* The rANS decoder on bytes: a fixed 40-symbol geometric model, FUZZ_RANS_SYMBOLS symbols. */
#define FUZZ_RANS_SYMBOLS 500
static inline void fuzz_rans_model(clae_rans_model *m)
{
    uint64_t counts[40];
    for (int i = 0; i < 40; i++) counts[i] = 1ull << (39 - i);
    clae_err err;
    clae_rans_model_build(counts, 40, m, &err);
}

static inline int fuzz_rans(const uint8_t *data, size_t n, clae_err *err)
{
    static clae_rans_model m;
    static int built;
    if (!built) fuzz_rans_model(&m), built = 1;
    uint16_t out[FUZZ_RANS_SYMBOLS];
    int rc = clae_rans_decode(&m, data, n, out, FUZZ_RANS_SYMBOLS, err);
    for (int i = 0; rc == 0 && i < FUZZ_RANS_SYMBOLS; i++)
        if (out[i] >= 40) return -2; /* a symbol the model does not have */
    return rc;
}

/* The codec the .clae reader checks files against: 2 channels x 1 x 3 of integer codes
 * (deterministic, so seeds written in one process read in another). */
static inline void fuzz_codec_build(clae_codec *c)
{
    float codes[40 * 6];
    for (int i = 0; i < 40 * 6; i++) codes[i] = (float)((i * 7 + i / 6) % 9) - 4.0f;
    clae_err err;
    clae_codec_fit(c, codes, 40, 2, 1, 3, 0, 0xC0DEu, &err);
}

static inline int fuzz_clae(const char *path, clae_err *err)
{
    static clae_codec c;
    if (!c.ch) fuzz_codec_build(&c);
    clae_codec_header h;
    uint16_t sym[6];
    int rc = clae_codec_read_file(path, &c, &h, sym, err);
    for (int i = 0; rc == 0 && i < 6; i++)
        if (sym[i] >= c.ch[i / 3].levels) return -2; /* a symbol the codec does not have */
    return rc;
}

static inline int fuzz_codec_table(const char *path, clae_err *err)
{
    clae_codec c;
    int rc = clae_codec_load(path, &c, err);
    if (rc == 0) {
        for (size_t x = 0; x < (size_t)c.channels * c.contexts; x++)
            if (c.rans[x].n != c.ch[x / c.contexts].levels) return -2;
        clae_codec_free(&c);
    }
    return rc;
}

static inline int fuzz_checkpoint(const char *path, clae_err *err)
{
    clae_ckpt_meta meta;
    clae_ckpt_data d;
    int rc = clae_ckpt_load(path, &meta, &d, err);
    if (rc == 0) {
        if (!d.config || !d.layers || strlen(d.config) != meta.config_bytes) return -2;
        clae_ckpt_data_free(&d);
    }
    return rc;
}

static inline int fuzz_npy(const char *path, clae_err *err)
{
    float *v = NULL;
    size_t rows, cols;
    int rc = clae_npy_read(path, &v, &rows, &cols, err);
    if (rc == 0 && !v) return -2;
    free(v);
    return rc;
}

/* The first "--set " in data[0..n), or NULL (memmem is a GNU extension). */
static inline const char *fuzz_find_set(const uint8_t *data, size_t n)
{
    for (size_t i = 0; i + 6 <= n; i++)
        if (memcmp(data + i, "--set ", 6) == 0) return (const char *)data + i;
    return NULL;
}

/* The config, and with an override taken from a "--set X" line of it. */
static inline int fuzz_ini(const char *path, const uint8_t *data, size_t n, clae_err *err)
{
    clae_config c;
    int rc = clae_config_load(&c, path, NULL, 0, err);
    if (rc == 0) clae_config_free(&c);
    const char *set = fuzz_find_set(data, n);
    if (!set) return rc;
    char over[256];
    size_t len = (size_t)((const char *)data + n - set) - 6;
    snprintf(over, sizeof over, "%.*s", (int)(len < 255 ? len : 255), set + 6);
    over[strcspn(over, "\n")] = 0;
    char *sets[1] = {over};
    clae_err err2 = {{0}};
    int rc2 = clae_config_load(&c, path, sets, 1, &err2);
    if (rc2 == 0) clae_config_free(&c);
    if (rc2 && (!err2.msg[0] || strchr(err2.msg, '\n'))) return *err = err2, -2;
    return rc;
}

static inline int fuzz_png(const char *path, clae_err *err)
{
    static const float white[3] = {1, 1, 1};
    clae_image img;
    int rc = clae_png_load(path, 3, white, &img, err);
    if (rc == 0) clae_image_free(&img);
    return rc;
}

static inline int fuzz_idx(const char *path, clae_err *err)
{
    clae_dataset d;
    int rc = clae_dataset_load_idx(&d, path, NULL, 0, err);
    if (rc == 0) clae_dataset_free(&d);
    return rc;
}

static inline int fuzz_csv(const char *path, clae_err *err)
{
    clae_dataset d;
    int rc = clae_dataset_load_csv(&d, path, (clae_shape){1, 1, 2, 2}, 255, 0, err);
    if (rc == 0) clae_dataset_free(&d);
    return rc;
}

/* A folder of two 2x2 PNGs (made once, beside path) labelled by the fuzzed CSV. */
static inline int fuzz_labels(const char *path, clae_err *err)
{
    char dir[300], png[400];
    snprintf(dir, sizeof dir, "%s.folder", path);
    struct stat st;
    clae_shape s = {1, 1, 2, 2};
    if (stat(dir, &st) != 0) {
        static const float px[4] = {0, 0.25f, 0.5f, 1};
        const float *rows[1] = {px};
        if (mkdir(dir, 0755)) return 0;
        for (int k = 0; k < 2; k++) {
            snprintf(png, sizeof png, "%s/%c.png", dir, 'a' + k);
            if (clae_png_grid(png, rows, 1, 1, s, 1, err)) return -2;
        }
    }
    clae_image_opts o = {.image = {1, 1, 2, 2}};
    clae_dataset d;
    int rc = clae_dataset_load_folder(&d, dir, path, &o, err);
    if (rc == 0) clae_dataset_free(&d);
    return rc;
}

/* The file as an edge list (then split, with A_hat of its training edges), and as the
 * features and the labels of a fixed edge list written beside it. */
static inline int fuzz_graph(const char *path, clae_err *err)
{
    clae_graph g;
    int rc = clae_graph_load(&g, path, NULL, NULL, err);
    if (rc == 0) {
        clae_edge_split s;
        clae_csr c;
        clae_err e2;
        if (clae_graph_split_edges(&g, 0.2, 0.2, 1, &s, &e2) == 0) {
            if (clae_csr_gcn(g.n_nodes, s.train_u, s.train_v, s.n_train, &c, &e2) == 0)
                clae_csr_free(&c);
            clae_edge_split_free(&s);
        } else if (!e2.msg[0] || strchr(e2.msg, '\n')) {
            return *err = e2, -2;
        }
        clae_graph_free(&g);
    } else if (rc != -1 || !err->msg[0] || strchr(err->msg, '\n')) {
        return -2;
    }
    char edges[300];
    snprintf(edges, sizeof edges, "%s.edges", path);
    FILE *f = fopen(edges, "w");
    if (!f) return 0;
    fputs("a b\nb c\nc a\n", f);
    fclose(f);
    int rf = clae_graph_load(&g, edges, path, NULL, err);
    if (rf == 0) clae_graph_free(&g);
    if (rf && (!err->msg[0] || strchr(err->msg, '\n'))) return -2;
    int rl = clae_graph_load(&g, edges, NULL, path, err);
    if (rl == 0) clae_graph_free(&g);
    remove(edges);
    return rl;
}

/* 0: accepted or refused cleanly; -1: a refusal without a proper one-line message */
static inline int fuzz_reader_input(const char *path, const uint8_t *data, size_t n)
{
    if (n == 0) return 0;
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    fwrite(data + 1, 1, n - 1, f);
    fclose(f);
    clae_err err = {{0}};
    int rc;
    switch (data[0] % FUZZ_READERS) {
    case FUZZ_CKPT: rc = fuzz_checkpoint(path, &err); break;
    case FUZZ_NPY: rc = fuzz_npy(path, &err); break;
    case FUZZ_INI: rc = fuzz_ini(path, data + 1, n - 1, &err); break;
    case FUZZ_PNG: rc = fuzz_png(path, &err); break;
    case FUZZ_IDX: rc = fuzz_idx(path, &err); break;
    case FUZZ_CSV: rc = fuzz_csv(path, &err); break;
    case FUZZ_RANS: rc = fuzz_rans(data + 1, n - 1, &err); break;
    case FUZZ_GRAPH: rc = fuzz_graph(path, &err); break;
    case FUZZ_CLAE: rc = fuzz_clae(path, &err); break;
    case FUZZ_CODEC: rc = fuzz_codec_table(path, &err); break;
    default: rc = fuzz_labels(path, &err); break;
    }
    if (rc == 0) return 0;
    if (rc == -1 && err.msg[0] && !strchr(err.msg, '\n')) return 0;
    fprintf(stderr, "%s: refusal without one line: [%s]\n",
            fuzz_reader_names[data[0] % FUZZ_READERS], err.msg);
    return -1;
}

#endif
