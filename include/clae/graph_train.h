/* Graph autoencoders (Kipf & Welling 2016, "Variational Graph Auto-Encoders"):
 * an encoder of graph convolutions over every node at once (full batch), the
 * inner-product decoder sigma(Z Z^T) and its loss, trained to reconstruct the
 * training edges and evaluated by link prediction on held-out edges against
 * as many non-edges (ROC AUC, average precision). One step per epoch, as the
 * reference implementation. */
#ifndef CLAE_GRAPH_TRAIN_H
#define CLAE_GRAPH_TRAIN_H

#include <signal.h>

#include "clae/config.h"
#include "clae/graph.h"
#include "clae/metrics.h"
#include "clae/nn.h"
#include "clae/objective.h"
#include "clae/optim.h"

typedef struct {
    const clae_config *cfg;
    clae_ctx *ctx;
    clae_graph graph;
    clae_edge_split split;
    clae_csr a_hat;       /* of the training edges; its pattern A + I holds the dense targets */
    clae_edge_set *edges; /* the training edges (negative sampling) */
    clae_arena graph_mem; /* the packed A_hat, the pair set, the logits */
    clae_tensor a_hat_t, pairs_t, logits, saved; /* saved: the targets' logits (dense loss) */
    uint32_t pairs_nnz;
    cl_mem row_loss;         /* per node */
    double pos_weight, norm; /* the reference's weighting of the dense loss */
    clae_layer_spec *specs;  /* the encoder's (the inner_product decoder is the loss) */
    int n_specs;
    clae_model model; /* rows are nodes; the last layer's output is the code Z */
    clae_optim optim;
    int epoch; /* completed epochs = steps */
    long step;
    double best_val;
    int since_best;
    double lr;
    clae_metrics train_metrics;
    double first_step_s, train_s;
    const volatile sig_atomic_t *stop;
} clae_graph_trainer;

/* Loads the graph, splits its edges (seeded), builds the encoder and optimizer. */
int clae_graph_trainer_open(clae_graph_trainer *t, clae_ctx *ctx, const clae_config *cfg,
                            clae_err *err);
void clae_graph_trainer_close(clae_graph_trainer *t);
/* The loss of the current parameters (into t->train_metrics: loss, a vae's KL)
 * and its gradient in the model's gradient buffer; the vae's noise is the
 * current step's. */
int clae_graph_trainer_gradient(clae_graph_trainer *t);
/* One full-batch step: the gradient, then the optimizer. */
int clae_graph_trainer_epoch(clae_graph_trainer *t);
/* Validation or test pairs: AUC, AP and the mean unweighted cross-entropy (loss). */
int clae_graph_trainer_evaluate(clae_graph_trainer *t, clae_split_kind k, clae_metrics *out);
/* The codes of every node in evaluation mode (a vae's means): n_nodes x units floats. */
int clae_graph_trainer_codes(clae_graph_trainer *t, float *codes);
static inline size_t clae_graph_code_size(const clae_graph_trainer *t)
{
    return clae_shape_sample(t->model.layers[t->model.n_layers - 1].out);
}
/* The pairs of a split (val, test) or NULL for train. */
const clae_pairs *clae_graph_trainer_pairs(const clae_graph_trainer *t, clae_split_kind k);

int clae_graph_trainer_save(clae_graph_trainer *t, const char *path, clae_err *err);
int clae_graph_trainer_load(clae_graph_trainer *t, const char *path, clae_err *err);

#endif
