/* FLOPs of a training step, for benchmarks: the multiply-adds of the layers
 * that do matrix work (dense, conv, conv_transpose, vae, attention), 2 FLOPs
 * each. Elementwise layers (activations, norms, pools) are memory-bound and
 * left out, as PyTorch's and most papers' counts leave them out. */
#include "clae/nn.h"

/* Forward FLOPs of one sample through l. */
static double layer_forward_flops(const clae_layer *l)
{
    double in = (double)clae_shape_sample(l->in), out = (double)clae_shape_sample(l->out);
    double kk = (double)l->spec.kernel * l->spec.kernel;
    switch (l->spec.type) {
    case CLAE_LAYER_DENSE: return 2.0 * in * out;
    case CLAE_LAYER_CONV: return 2.0 * out * l->in.c * kk;   /* every output: C_in K K products */
    case CLAE_LAYER_CONV_T: return 2.0 * in * l->out.c * kk; /* every input: C_out K K products */
    case CLAE_LAYER_VAE: return 2.0 * in * 2.0 * l->spec.units;
    case CLAE_LAYER_ATTENTION: {
        double c = l->in.c, p = (double)l->in.h * l->in.w;
        double ck = l->spec.units > 0 ? l->spec.units : (l->in.c / 8 > 0 ? l->in.c / 8 : 1);
        return 2.0 * p * c * (2.0 * ck + c) /* q, k, v */ + 2.0 * p * p * ck /* scores */ + 2.0 * p * p * c /* mix */;
    }
    default: return 0.0;
    }
}

/* Forward, parameter gradient and input gradient each cost one forward; the
 * first layer has no input gradient to compute. Per sample. */
double clae_model_train_flops(const clae_model *m)
{
    double total = 0.0;
    for (int i = 0; i < m->n_layers; i++) {
        double f = layer_forward_flops(&m->layers[i]);
        total += f * (i == 0 ? 2.0 : 3.0);
    }
    return total;
}
