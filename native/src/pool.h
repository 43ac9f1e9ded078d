/*
 * A fixed pool of worker threads for the kernels. pool_run(n, fn, ctx) calls fn(ctx, i) once for every
 * task i in [0, n), spread over the pool and the calling thread, and returns when all are done. Which
 * thread runs a task never changes what the task computes (tasks write disjoint outputs), so results do
 * not depend on the thread count.
 */
#ifndef DAP_POOL_H
#define DAP_POOL_H

typedef void (*pool_task_fn)(void *ctx, long task);

/** Sets the number of threads (the caller included), at least 1; starts/stops workers as needed. */
void pool_set_threads(int n);
/** The number of threads kernels use now. */
int pool_threads(void);
/** Runs fn(ctx, i) for i in [0, n) on the pool; returns when every task has finished. */
void pool_run(long n, pool_task_fn fn, void *ctx);

#endif
