/* FLOPs of a training step, for benchmarks: the multiply-adds of the layers
 * that do matrix work (dense, conv, conv_transpose, vae, attention), 2 FLOPs
 * each. Elementwise layers (activations, norms, pools) are memory-bound and
 * left out, as PyTorch's and most papers' counts leave them out. */
#include "clae/nn.h"

double clae_layer_flops(const clae_layer *l)
{
    const clae_layer_kind *k = clae_layer_kind_of(l->spec.type);
    return k && k->flops ? k->flops(l) : 0.0;
}

/* Forward, parameter gradient and input gradient each cost one forward; the
 * first layer has no input gradient to compute. Per sample. */
double clae_model_train_flops(const clae_model *m)
{
    double total = 0.0;
    for (int i = 0; i < m->n_layers; i++) {
        double f = clae_layer_flops(&m->layers[i]);
        total += f * (i == 0 ? 2.0 : 3.0);
    }
    return total;
}
