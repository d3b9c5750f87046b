/* The layer registry: a row per kind of CLAE_LAYER_LIST, each defined in
 * its layer's file. */
#include "clae/nn.h"

#define CLAE_X_DECLARE(id, name) extern const clae_layer_kind clae_kind_##name;
CLAE_LAYER_LIST(CLAE_X_DECLARE)
#undef CLAE_X_DECLARE

#define CLAE_X_ROW(id, name) &clae_kind_##name,
const clae_layer_kind *const clae_layer_kinds[] = {CLAE_LAYER_LIST(CLAE_X_ROW)};
#undef CLAE_X_ROW
const int clae_n_layer_kinds = (int)(sizeof clae_layer_kinds / sizeof clae_layer_kinds[0]);

const char *clae_layer_type_name(const clae_layer_spec *s)
{
    const clae_layer_kind *k = clae_layer_kind_of(s->type);
    if (!k) return "?";
    for (int n = 0; n < CLAE_MAX_LAYER_NAMES && k->names[n].name; n++)
        if (!k->names[n].is || k->names[n].is(s)) return k->names[n].name;
    return k->names[0].name;
}

const clae_layer_kind *clae_layer_kind_of(clae_layer_type t)
{
    return (unsigned)t < (unsigned)clae_n_layer_kinds ? clae_layer_kinds[t] : NULL;
}
