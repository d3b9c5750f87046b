/* The kinds the kernels and the host share, one X-macro list each: X(ID,
 * name). The host makes its enums (CLAE_ACT_RELU, ...) and the names the
 * config takes from them; the kernels get the same file embedded first in
 * their program and make ACT_RELU, ... from it. Valid C and OpenCL C, so it
 * holds nothing but these lists. */
#ifndef CLAE_KINDS_H
#define CLAE_KINDS_H

/* activation after a layer (cl/act.cl) */
#define CLAE_ACT_LIST(X) \
    X(NONE, none) X(RELU, relu) X(LEAKY_RELU, leaky_relu) X(SIGMOID, sigmoid) X(TANH, tanh)
/* reconstruction loss (cl/loss.cl) */
#define CLAE_LOSS_LIST(X) X(MSE, mse) X(BCE, bce)
/* input corruption of denoising (cl/elementwise.cl) */
#define CLAE_NOISE_LIST(X) \
    X(NONE, none) X(GAUSSIAN, gaussian) X(SALT_PEPPER, salt_pepper) X(MASK, mask)

/* X-macro helpers: a list's names as strings ({"none", "relu", ...}) */
#define CLAE_X_NAME(id, name) #name,

#endif
