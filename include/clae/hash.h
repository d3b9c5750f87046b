/* FNV-1a, 32 bits: what names a model's weights and a codec table (.clae headers). */
#ifndef CLAE_HASH_H
#define CLAE_HASH_H

#include <stddef.h>
#include <stdint.h>

#define CLAE_FNV32_BASIS 2166136261u

/* h continued over n bytes (start with CLAE_FNV32_BASIS). */
static inline uint32_t clae_fnv1a32(uint32_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
    return h;
}

#endif
