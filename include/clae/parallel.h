/* Host work split over threads: the embedding maps (t-SNE, neighbours) run
 * on every core. Each call starts and joins its own threads; nothing is shared
 * between calls. */
#ifndef CLAE_PARALLEL_H
#define CLAE_PARALLEL_H

#include <stddef.h>

/* One thread's share: items [begin, end). */
typedef void (*clae_range_fn)(void *arg, size_t begin, size_t end);

/* Share k of n: whatever part of the work it names. */
typedef void (*clae_share_fn)(void *arg, int share, int n_shares);

/* Cores online, at least 1 (at most 64). */
int clae_host_threads(void);
/* Runs fn over [0, n) in threads contiguous shares (this thread takes the
 * first; a thread that cannot be started has its share run here), so which
 * thread computes an item never changes what is computed. */
void clae_parallel_for(size_t n, int threads, clae_range_fn fn, void *arg);
/* Runs fn for shares 0 .. n_shares - 1 on that many threads (this one runs share 0; a
 * share whose thread cannot be started runs here). */
void clae_parallel_shares(int n_shares, clae_share_fn fn, void *arg);

#endif
