/* The commands' graph paths (graph_run.c): clae train and clae encode when
 * the config says data.format = graph. */
#ifndef CLAE_CLI_GRAPH_RUN_H
#define CLAE_CLI_GRAPH_RUN_H

#include <signal.h>
#include <stdio.h>

#include "clae/graph_train.h"
#include "run.h"

/* Trains cfg into a run directory (or resumes o->resume); 1 when *stop ended it. */
int graph_train_run(clae_ctx *ctx, const clae_config *cfg, const clae_cli_opts *o, FILE *jl,
                    const volatile sig_atomic_t *stop, clae_err *err);
/* The node codes of the run o->positional (whose config is cfg) into RUN/encode/codes.npy or
 * o->out, with a CSV of node ids and labels beside it. */
int graph_encode_run(clae_ctx *ctx, const clae_config *cfg, const clae_cli_opts *o, clae_err *err);
/* The node codes' map (graph_map.c) of a trained graph, and of the run o->positional. */
int graph_map_trained(clae_graph_trainer *t, const clae_cli_opts *o, clae_err *err);
int graph_map_run(clae_ctx *ctx, const clae_config *cfg, const clae_cli_opts *o, clae_err *err);
/* row,node,label,class per node (and x,y of xy, n_nodes x 2, unless NULL), atomically. */
int graph_write_nodes_csv(const char *path, const clae_graph *g, const float *xy, clae_err *err);
/* Whether RUN's config.ini is a graph's (its config loaded into cfg when it is). */
bool graph_run_config(const char *run, const clae_cli_opts *o, clae_config *cfg);

/* Opens the device, runs f on the graph run's cfg (freed after), and turns an error into its
 * line: the body of clae encode and latent-map for graph runs. */
int graph_command(clae_cli_opts *o, clae_config *cfg,
                  int (*f)(clae_ctx *, const clae_config *, const clae_cli_opts *, clae_err *));

#endif
