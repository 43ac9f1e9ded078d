/*
 * SwiGLU and RoPE kernels (see llama_ops.h). Elementwise work in CHUNK-element tasks, RoPE in tasks of
 * ROPE_ROWS rows of Dh; sigmoid through approx.h's exp.
 */
#include "compat.h"
#include "llama_ops.h"
#include "approx.h"
#include "pool.h"

#define CHUNK 16384   /* elements per task of an elementwise kernel */
#define ROPE_ROWS 256 /* rows of Dh per RoPE task */
#define CLONES __attribute__((target_clones("avx512f", "avx2,fma", "default")))

/* ---- SwiGLU ---- */

typedef struct { const float *g, *u, *dy; float *y, *dg, *du; long n; } swiglu_args;

CLONES static void swiglu_fwd_range(const float *g, const float *u, float *y, long n) {
  for (long i = 0; i < n; i++) {
    float v = g[i];
    float s = 1.f / (1.f + exp_approx(-v));
    y[i] = v * s * u[i];
  }
}

CLONES static void swiglu_bwd_range(const float *g, const float *u, const float *dy, float *dg, float *du, long n) {
  for (long i = 0; i < n; i++) {
    float v = g[i];
    float s = 1.f / (1.f + exp_approx(-v));
    float silu = v * s;
    du[i] = dy[i] * silu;
    dg[i] = dy[i] * u[i] * (s + silu * (1.f - s));
  }
}

static void swiglu_fwd_task(void *c, long t) {
  swiglu_args *a = c;
  long s = t * CHUNK, e = s + CHUNK < a->n ? s + CHUNK : a->n;
  swiglu_fwd_range(a->g + s, a->u + s, a->y + s, e - s);
}
static void swiglu_bwd_task(void *c, long t) {
  swiglu_args *a = c;
  long s = t * CHUNK, e = s + CHUNK < a->n ? s + CHUNK : a->n;
  swiglu_bwd_range(a->g + s, a->u + s, a->dy + s, a->dg + s, a->du + s, e - s);
}
void swiglu_fwd(const float *g, const float *u, float *y, long n) {
  swiglu_args a = {.g = g, .u = u, .y = y, .n = n};
  pool_run((n + CHUNK - 1) / CHUNK, swiglu_fwd_task, &a);
}
void swiglu_bwd(const float *g, const float *u, const float *dy, float *dg, float *du, long n) {
  swiglu_args a = {.g = g, .u = u, .dy = dy, .dg = dg, .du = du, .n = n};
  pool_run((n + CHUNK - 1) / CHUNK, swiglu_bwd_task, &a);
}

/* ---- RoPE ---- */

typedef struct { const float *x, *cos, *sin; float *y; long B, H, T, Dh, CB; int inverse, bthd; } rope_args;

CLONES static void rope_row(const float *x, const float *c, const float *s, float *y, long half, int inverse) {
  if (!inverse) {
    for (long d = 0; d < half; d++) y[d] = x[d] * c[d] - x[d + half] * s[d];
    for (long d = half; d < 2 * half; d++) y[d] = x[d] * c[d] + x[d - half] * s[d];
  } else {
    for (long d = 0; d < half; d++) y[d] = x[d] * c[d] + x[d + half] * s[d + half];
    for (long d = half; d < 2 * half; d++) y[d] = x[d] * c[d] - x[d - half] * s[d - half];
  }
}

static void rope_task(void *c, long t) {
  const rope_args *a = c;
  long rows = a->B * a->H * a->T, r0 = t * ROPE_ROWS, r1 = r0 + ROPE_ROWS < rows ? r0 + ROPE_ROWS : rows;
  for (long r = r0; r < r1; r++) {
    long tt = a->bthd ? (r / a->H) % a->T : r % a->T, b = r / (a->H * a->T);
    long cs = ((a->CB == 1 ? 0 : b) * a->T + tt) * a->Dh;
    rope_row(a->x + r * a->Dh, a->cos + cs, a->sin + cs, a->y + r * a->Dh, a->Dh / 2, a->inverse);
  }
}

void rope_apply(const float *x, const float *cos, const float *sin, float *y, long B, long H, long T, long Dh, long CB, int inverse, int bthd) {
  rope_args a = {x, cos, sin, y, B, H, T, Dh, CB, inverse, bthd};
  long rows = B * H * T;
  pool_run((rows + ROPE_ROWS - 1) / (ROPE_ROWS), rope_task, &a);
}
