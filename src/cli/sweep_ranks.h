/* clae sweep under mpirun: rank 0 keeps the journal and decides (sampling,
 * pruning); every rank is one trial slot on its own device, and the others
 * start and stop their trial's clae train when rank 0 says so. The sweep
 * directory must be one that every rank sees (one machine, or a shared file
 * system): trials write their runs, logs and reports there, and rank 0 reads
 * the reports as it does for its own trials. */
#ifndef CLAE_CLI_SWEEP_RANKS_H
#define CLAE_CLI_SWEEP_RANKS_H

#include <signal.h>
#include <sys/types.h>

#include "clae/job.h"

/* Forks a clae train child (argv[0] is replaced by this executable) with its
 * output appended to log; *pid on success. It runs alone (CLAE_NO_MPI=1),
 * though the launcher's environment is inherited. */
int sweep_start_child(char **argv, const char *log, pid_t *pid, clae_err *err);

/* Rank 0: trial's child on rank with argv (NULL-terminated) and its log. */
int sweep_rank_start(const clae_job *d, int rank, int trial, const char *log, char **argv,
                     clae_err *err);
/* Rank 0: sig to the child of trial on rank. */
int sweep_rank_signal(const clae_job *d, int rank, int trial, int sig, clae_err *err);
/* Rank 0: a child that has ended on another rank (*got false when none has): its wait status. */
int sweep_rank_poll_exit(const clae_job *d, bool *got, int *rank, int *status, clae_err *err);
/* Rank 0: no more trials; the other ranks return from sweep_rank_work. */
int sweep_rank_quit_all(const clae_job *d, clae_err *err);
/* Every other rank: start, signal and report children as rank 0 asks, with
 * --device device appended (when not empty), until it says quit; a stop
 * signal here goes on to the child (mpirun sends it to every rank). */
int sweep_rank_work(const clae_job *d, const char *device, const volatile sig_atomic_t *stop,
                    clae_err *err);

#endif
