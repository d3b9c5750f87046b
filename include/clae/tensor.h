/* Device tensors: a view (offset + shape) into an arena, one cl_mem carved into
 * many tensors. A model reserves all it needs before training, allocates once,
 * and a training step allocates nothing. Shapes are NCHW; dense data is (N, C, 1, 1). */
#ifndef CLAE_TENSOR_H
#define CLAE_TENSOR_H

#include <stddef.h>

#include "clae/runtime.h"

typedef struct {
    cl_mem buf;
    size_t capacity; /* floats reserved */
    size_t used;     /* floats handed out */
    cl_mem_flags flags;
    const char *what; /* for error messages: "parameters", "activations" */
} clae_arena;

typedef struct {
    int n, c, h, w;
} clae_shape;

typedef struct {
    clae_arena *arena; /* owner of the cl_mem; arena->buf is valid after clae_arena_alloc */
    size_t off;        /* in floats */
    clae_shape shape;
} clae_tensor;

static inline size_t clae_shape_numel(clae_shape s) { return (size_t)s.n * s.c * s.h * s.w; }
static inline size_t clae_shape_sample(clae_shape s) { return (size_t)s.c * s.h * s.w; }
static inline cl_mem clae_buf(const clae_tensor *t) { return t->arena->buf; }

void clae_arena_init(clae_arena *a, const char *what);
/* Reserves room for a tensor of this shape; its buffer exists after alloc. */
clae_tensor clae_arena_reserve(clae_arena *a, clae_shape shape);
/* Creates the buffer; checks it against the device's allocation limits first. */
int clae_arena_alloc(clae_ctx *ctx, clae_arena *a);
void clae_arena_release(clae_arena *a);

/* Blocking host <-> device copies of a tensor's first n floats. */
int clae_tensor_write(clae_ctx *ctx, const clae_tensor *t, const float *host, size_t n);
int clae_tensor_read(clae_ctx *ctx, const clae_tensor *t, float *host, size_t n);

/* A tensor with its own arena (tests, datasets): caller frees with clae_arena_release(t.arena) and
 * free(t.arena). */
int clae_tensor_create(clae_ctx *ctx, clae_shape shape, clae_tensor *t);
void clae_tensor_destroy(clae_tensor *t);

#endif
