/*
 * Data movement and adds (see moves.h). Elementwise work goes in CHUNK-element tasks; copies in tasks
 * of whole leading rows; the scatter-add in column blocks, each block walking the rows in order.
 */
#include "compat.h"
#include "moves.h"
#include "pool.h"
#include <string.h>

#define CHUNK 16384          /* elements per task of an elementwise kernel */
#define COPY_TASK 32768      /* about this many elements per copy task */
#define COLS_TASK 64         /* columns per scatter-add task */
#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

static long min_l(long a, long b) { return a < b ? a : b; }

/* Runs on the caller alone below two chunks (waking workers costs more than a few microseconds of work). */
static void run(long tasks, pool_task_fn fn, void *ctx) {
  if (tasks <= 1) { for (long t = 0; t < tasks; t++) fn(ctx, t); return; }
  pool_run(tasks, fn, ctx);
}

typedef struct { const float *a, *b; float *y; long n, bn; } add_args;

CLONES static void add_range(const float *a, const float *b, float *y, long n) {
  for (long i = 0; i < n; i++) y[i] = a[i] + b[i];
}

static void add_task(void *c, long t) {
  const add_args *p = c;
  long s = t * CHUNK, e = min_l(s + CHUNK, p->n);
  if (p->bn == p->n) { add_range(p->a + s, p->b + s, p->y + s, e - s); return; }
  for (long i = s; i < e;) { /* runs of b: from i to the end of its row of bn */
    long j = i % p->bn, len = min_l(p->bn - j, e - i);
    add_range(p->a + i, p->b + j, p->y + i, len);
    i += len;
  }
}

void add_bcast(const float *a, const float *b, float *y, long n, long bn) {
  if (n <= 0 || bn <= 0) return;
  add_args p = {a, b, y, n, bn};
  run((n + CHUNK - 1) / CHUNK, add_task, &p);
}

typedef struct { const float *src; float *dst; long shape[4], strides[4], rows_per_task, rows; } copy_args;

/* Row r of the output = index (i0, i1, i2) over shape[0..2]; each row is shape[3] elements. */
static void copy_task(void *c, long t) {
  const copy_args *p = c;
  const long n3 = p->shape[3];
  long r0 = t * p->rows_per_task, r1 = min_l(r0 + p->rows_per_task, p->rows);
  for (long r = r0; r < r1; r++) {
    long i2 = r % p->shape[2], i1 = (r / p->shape[2]) % p->shape[1], i0 = r / (p->shape[2] * p->shape[1]);
    const float *s = p->src + i0 * p->strides[0] + i1 * p->strides[1] + i2 * p->strides[2];
    float *d = p->dst + r * n3;
    if (p->strides[3] == 1) memcpy(d, s, sizeof(float) * n3);
    else for (long k = 0; k < n3; k++) d[k] = s[k * p->strides[3]];
  }
}

void strided_copy4(const float *src, float *dst, const long shape[4], const long strides[4]) {
  copy_args p = {src, dst, {shape[0], shape[1], shape[2], shape[3]}, {strides[0], strides[1], strides[2], strides[3]}, 1, 0};
  p.rows = shape[0] * shape[1] * shape[2];
  if (p.rows <= 0 || shape[3] <= 0) return;
  p.rows_per_task = shape[3] >= COPY_TASK ? 1 : COPY_TASK / shape[3];
  run((p.rows + p.rows_per_task - 1) / p.rows_per_task, copy_task, &p);
}

typedef struct { const float *table; const int32_t *ids; float *out; long n, D, V, rows_per_task; } gather_args;

static void gather_task(void *c, long t) {
  const gather_args *p = c;
  long r0 = t * p->rows_per_task, r1 = min_l(r0 + p->rows_per_task, p->n);
  for (long r = r0; r < r1; r++) memcpy(p->out + r * p->D, p->table + (long)p->ids[r] * p->D, sizeof(float) * p->D);
}

long gather_rows(const float *table, const int32_t *ids, float *out, long n, long D, long V) {
  for (long i = 0; i < n; i++)
    if (ids[i] < 0 || ids[i] >= V) return i;
  if (n <= 0 || D <= 0) return -1;
  gather_args p = {table, ids, out, n, D, V, D >= COPY_TASK ? 1 : COPY_TASK / D};
  run((n + p.rows_per_task - 1) / p.rows_per_task, gather_task, &p);
  return -1;
}

typedef struct { const float *x; const int32_t *ids; float *out; long n, D, S; } scatter_args;

CLONES static void add_into(float *d, const float *s, long n) {
  for (long k = 0; k < n; k++) d[k] += s[k];
}

static void scatter_task(void *c, long t) {
  const scatter_args *p = c;
  long c0 = t * COLS_TASK, w = min_l(COLS_TASK, p->D - c0);
  for (long s = 0; s < p->S; s++) memset(p->out + s * p->D + c0, 0, sizeof(float) * w);
  for (long i = 0; i < p->n; i++) {
    int32_t s = p->ids[i];
    if (s < 0 || s >= p->S) continue;
    add_into(p->out + (long)s * p->D + c0, p->x + i * p->D + c0, w);
  }
}

void segment_sum_rows(const float *x, const int32_t *ids, float *out, long n, long D, long S) {
  if (S <= 0 || D <= 0) return;
  scatter_args p = {x, ids, out, n, D, S};
  long tasks = (D + COLS_TASK - 1) / COLS_TASK;
  if (n * D < 2 * CHUNK) { for (long t = 0; t < tasks; t++) scatter_task(&p, t); return; }
  pool_run(tasks, scatter_task, &p);
}
