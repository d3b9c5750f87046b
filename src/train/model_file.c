/* Saving and loading a model with its description: a checkpoint names what
 * it holds, so another architecture is refused by the layer that differs. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clae/hash.h"
#include "clae/model_file.h"

char *clae_model_describe(const clae_model *m)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) return NULL;
    fprintf(f, "input %dx%dx%d\n", m->input.c, m->input.h, m->input.w);
    for (int i = 0; i < m->n_layers; i++) {
        clae_config_describe_layer(f, &m->layers[i].spec);
        fputc('\n', f);
    }
    bool bad = ferror(f) != 0;
    if (fclose(f) != 0 || bad) {
        free(text);
        return NULL;
    }
    return text;
}

uint64_t clae_model_signature(const char *d)
{
    uint64_t h = 0xCBF29CE484222325ull;
    for (const char *p = d; *p;) {
        if (*p == '[') { /* the section name: layers may be renamed */
            const char *sp = strchr(p, ' ');
            if (sp) p = sp + 1;
        }
        for (; *p && *p != '\n'; p++) h = (h ^ (uint8_t)*p) * 0x100000001B3ull;
        if (*p) h = (h ^ (uint8_t)*p++) * 0x100000001B3ull;
    }
    return h;
}

static char *config_text(const clae_config *cfg)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) return NULL;
    bool bad = clae_config_write(cfg, f) != 0;
    if (fclose(f) != 0 || bad) {
        free(text);
        return NULL;
    }
    return text;
}

/* The checkpoint's view of m: sizes, input and signature. */
static clae_ckpt_meta model_meta(const clae_model *m, const char *description,
                                 const clae_ckpt_meta *position)
{
    clae_ckpt_meta meta = position ? *position : (clae_ckpt_meta){0};
    meta.model_signature = clae_model_signature(description);
    meta.n_params = m->params.capacity;
    meta.n_layer_state = m->state.capacity;
    meta.input_c = m->input.c, meta.input_h = m->input.h, meta.input_w = m->input.w;
    return meta;
}

int clae_model_weights_hash(clae_model *m, clae_ctx *ctx, uint32_t *hash, clae_err *err)
{
    size_t n = m->params.capacity + m->state.capacity;
    float *host = malloc(n * sizeof *host + 1);
    if (!host) return clae_fail(err, "out of host memory for %zu parameters", n);
    clae_tensor params = {&m->params, 0, {1, 1, 1, 1}}, state = {&m->state, 0, {1, 1, 1, 1}};
    int rc = clae_tensor_read(ctx, &params, host, m->params.capacity) ||
             (m->state.capacity &&
              clae_tensor_read(ctx, &state, host + m->params.capacity, m->state.capacity));
    if (rc)
        *err = ctx->err;
    else
        *hash = clae_fnv1a32(CLAE_FNV32_BASIS, host, n * sizeof *host);
    free(host);
    return rc ? -1 : 0;
}

int clae_model_save(const char *path, clae_model *m, clae_ctx *ctx, const clae_config *cfg,
                    const clae_ckpt_meta *pos, const float *optim, clae_err *err)
{
    clae_ckpt_data d = {.config = config_text(cfg), .layers = clae_model_describe(m)};
    d.params = malloc(m->params.capacity * sizeof(float) + 1);
    d.layer = malloc(m->state.capacity * sizeof(float) + 1);
    int rc = -1;
    clae_tensor params = {&m->params, 0, {1, 1, 1, 1}}, state = {&m->state, 0, {1, 1, 1, 1}};
    if (!d.config || !d.layers || !d.params || !d.layer) {
        clae_fail(err, "out of host memory saving a checkpoint");
    } else if (clae_tensor_read(ctx, &params, d.params, m->params.capacity) ||
               (m->state.capacity && clae_tensor_read(ctx, &state, d.layer, m->state.capacity))) {
        *err = ctx->err;
    } else {
        clae_ckpt_meta meta = model_meta(m, d.layers, pos);
        d.optim = (float *)optim;
        if (!optim) meta.n_state = 0;
        rc = clae_ckpt_save(path, &meta, &d, err);
        d.optim = NULL;
    }
    clae_ckpt_data_free(&d);
    return rc;
}

/* Refuses a checkpoint (read into meta, data) of another architecture than
 * m's, then uploads its parameters and layer state into m. */
static int match_and_upload(const char *path, clae_model *m, clae_ctx *ctx,
                            const clae_ckpt_meta *meta, const clae_ckpt_data *data, clae_err *err)
{
    char *description = clae_model_describe(m);
    if (!description) return clae_fail(err, "out of host memory");
    clae_ckpt_meta expect = model_meta(m, description, NULL);
    int rc = clae_ckpt_match(path, meta, data, &expect, description, err);
    free(description);
    clae_tensor params = {&m->params, 0, {1, 1, 1, 1}}, state = {&m->state, 0, {1, 1, 1, 1}};
    if (rc == 0 &&
        (clae_tensor_write(ctx, &params, data->params, m->params.capacity) ||
         (m->state.capacity && clae_tensor_write(ctx, &state, data->layer, m->state.capacity)))) {
        *err = ctx->err;
        rc = -1;
    }
    return rc ? -1 : 0;
}

int clae_model_read(const char *path, clae_model *m, clae_ctx *ctx, clae_ckpt_meta *meta,
                    clae_ckpt_data *data, clae_err *err)
{
    if (clae_ckpt_load(path, meta, data, err)) return -1;
    if (match_and_upload(path, m, ctx, meta, data, err) == 0) return 0;
    clae_ckpt_data_free(data);
    return -1;
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The config: a run directory's config.ini, else the text the checkpoint holds. */
static int load_config(clae_saved_model *s, const char *path, const clae_ckpt_data *d,
                       const clae_load_opts *o, clae_err *err)
{
    char *const *sets = o ? o->sets : NULL;
    int n_sets = o ? o->n_sets : 0;
    if (is_dir(path)) {
        char config[1100];
        snprintf(config, sizeof config, "%s/config.ini", path);
        return clae_config_load(&s->cfg, config, sets, n_sets, err);
    }
    if (!d->config[0])
        return clae_fail(err, "%s: the checkpoint holds no config: load its run directory", path);
    return clae_config_load_text(&s->cfg, path, d->config, sets, n_sets, err);
}

int clae_model_load(clae_saved_model *s, clae_ctx *ctx, const char *path, const clae_load_opts *o,
                    clae_err *err)
{
    memset(s, 0, sizeof *s);
    if (is_dir(path))
        snprintf(s->checkpoint, sizeof s->checkpoint, "%s/%s", path,
                 o && o->best ? "best.bin" : "checkpoint.bin");
    else
        snprintf(s->checkpoint, sizeof s->checkpoint, "%s", path);
    clae_ckpt_data d;
    if (clae_ckpt_load(s->checkpoint, &s->meta, &d, err)) return -1;
    int rc = load_config(s, path, &d, o, err);
    if (rc == 0 && s->cfg.data.format == CLAE_DATA_GRAPH)
        rc = clae_fail(err,
                       "%s: a graph autoencoder (data.format = graph): clae encode and clae "
                       "latent-map take its run; this command works on image models",
                       path);
    int batch = rc == 0 && o && o->max_batch > 0 ? o->max_batch : s->cfg.train.batch_size;
    clae_shape input = {1, s->meta.input_c, s->meta.input_h, s->meta.input_w};
    if (rc == 0 &&
        (input.c < 1 || input.h < 1 || input.w < 1 || input.c > 4096 || input.h > 65536 ||
         input.w > 65536 || (double)input.c * input.h * input.w > 1e9))
        rc = clae_fail(err, "%s: the checkpoint's input %dx%dx%d is not an image shape",
                       s->checkpoint, input.c, input.h, input.w);
    /* the file is read once: its arrays go up from what load_config already had */
    if (rc == 0 &&
        (clae_model_build(&s->model, ctx, input, s->cfg.layers, s->cfg.n_layers, batch, err) ||
         match_and_upload(s->checkpoint, &s->model, ctx, &s->meta, &d, err)))
        rc = -1;
    clae_ckpt_data_free(&d);
    if (rc) {
        clae_saved_model_release(s);
        return -1;
    }
    s->model.seed = (uint64_t)s->cfg.train.seed;
    return 0;
}

void clae_saved_model_release(clae_saved_model *s)
{
    clae_model_release(&s->model);
    clae_config_free(&s->cfg);
}

static clae_tensor optim_state(clae_optim *opt)
{
    return (clae_tensor){&opt->state, 0, {1, 1, 1, 1}};
}

int clae_model_save_training(const char *path, clae_model *m, clae_ctx *ctx, const clae_config *cfg,
                             clae_ckpt_meta pos, clae_optim *opt, clae_err *err)
{
    pos.optim_kind = (uint32_t)opt->cfg.kind;
    pos.n_state = (uint32_t)opt->n_state;
    pos.optim_step = opt->step;
    size_t n = (size_t)pos.n_state * m->params.capacity;
    float *state = malloc(n * sizeof *state + 1);
    clae_tensor st = optim_state(opt);
    int rc = -1;
    if (!state)
        clae_fail(err, "out of host memory saving a checkpoint");
    else if (n && clae_tensor_read(ctx, &st, state, n))
        *err = ctx->err;
    else
        rc = clae_model_save(path, m, ctx, cfg, &pos, state, err);
    free(state);
    return rc;
}

int clae_model_load_training(const char *path, clae_model *m, clae_ctx *ctx, clae_optim *opt,
                             clae_ckpt_meta *meta, clae_err *err)
{
    clae_ckpt_data d;
    if (clae_model_read(path, m, ctx, meta, &d, err)) return -1;
    clae_tensor st = optim_state(opt);
    size_t n = (size_t)meta->n_state * meta->n_params;
    int rc = 0;
    if (meta->optim_kind != (uint32_t)opt->cfg.kind || meta->n_state != (uint32_t)opt->n_state)
        rc = clae_fail(
            err,
            "%s: saved with optimizer %s but the config says %s: resume with the same optimizer",
            path, clae_optim_name((clae_optim_kind)meta->optim_kind),
            clae_optim_name(opt->cfg.kind));
    else if (n && clae_tensor_write(ctx, &st, d.optim, n))
        rc = (*err = ctx->err, -1);
    if (rc == 0) opt->step = meta->optim_step;
    clae_ckpt_data_free(&d);
    return rc;
}
