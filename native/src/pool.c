/*
 * Thread pool for the kernels (see pool.h). Workers take task indices from one atomic counter; the caller
 * takes part too. Between jobs workers spin briefly on a generation counter (jobs come back to back
 * during a training step), then sleep on a condition variable so an idle engine uses no CPU.
 */
#include "compat.h"
#include "pool.h"
#include <pthread.h>
#include <stdatomic.h>
#include <sched.h>

#define MAX_THREADS 256
#define SPIN_ROUNDS 20000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static pthread_t workers[MAX_THREADS];
static int n_threads = 1;          /* threads in use, the caller included */
static int n_started = 0;          /* worker threads alive */
static int target_workers = 0;     /* workers that should take part in jobs */

static _Atomic long generation = 0;
static _Atomic long next_task = 0;
static _Atomic int active = 0;     /* workers still inside the current job */
static long job_n = 0;
static pool_task_fn job_fn = 0;
static void *job_ctx = 0;

static void drain(void) {
  for (;;) {
    long i = atomic_fetch_add_explicit(&next_task, 1, memory_order_relaxed);
    if (i >= job_n) break;
    job_fn(job_ctx, i);
  }
}

static long start_generation[MAX_THREADS]; /* generation when each worker was created */

static void *worker_main(void *arg) {
  long id = (long)arg;
  /* not the generation at thread start: a job may have begun (counting this worker) before the thread ran */
  long seen = start_generation[id];
  for (;;) {
    int spins = 0;
    long g;
    while ((g = atomic_load_explicit(&generation, memory_order_acquire)) == seen && spins < SPIN_ROUNDS) {
      spins++;
      if ((spins & 63) == 0) sched_yield();
    }
    if (g == seen) {
      pthread_mutex_lock(&lock);
      while ((g = atomic_load(&generation)) == seen) pthread_cond_wait(&wake, &lock);
      pthread_mutex_unlock(&lock);
    }
    seen = g;
    if (id >= target_workers) continue; /* parked: not part of this job */
    drain();
    atomic_fetch_sub_explicit(&active, 1, memory_order_release);
  }
  return 0;
}

void pool_set_threads(int n) {
  if (n < 1) n = 1;
  if (n > MAX_THREADS) n = MAX_THREADS;
  pthread_mutex_lock(&lock);
  while (n_started < n - 1) {
    start_generation[n_started] = atomic_load(&generation);
    if (pthread_create(&workers[n_started], 0, worker_main, (void *)(long)n_started) != 0) break;
    pthread_detach(workers[n_started]);
    n_started++;
  }
  n_threads = n_started + 1 < n ? n_started + 1 : n;
  target_workers = n_threads - 1;
  pthread_mutex_unlock(&lock);
}

int pool_threads(void) { return n_threads; }

void pool_run(long n, pool_task_fn fn, void *ctx) {
  if (n <= 0) return;
  if (n_threads == 1 || n == 1) {
    for (long i = 0; i < n; i++) fn(ctx, i);
    return;
  }
  job_n = n;
  job_fn = fn;
  job_ctx = ctx;
  atomic_store(&next_task, 0);
  atomic_store(&active, target_workers);
  pthread_mutex_lock(&lock);
  atomic_fetch_add_explicit(&generation, 1, memory_order_release);
  pthread_cond_broadcast(&wake);
  pthread_mutex_unlock(&lock);
  drain();
  /* wait for the workers' last tasks (yielding: the machine may have fewer free cores than threads) */
  for (int spins = 0; atomic_load_explicit(&active, memory_order_acquire) > 0; spins++) {
    if ((spins & 255) == 255) sched_yield();
  }
}
