/*
 * Strided causal attention (see attn.h). One task per (b, query head) forward, per (b, key/value head)
 * backward (its query heads in order, so dk and dv sum them in a fixed order). Rows go in blocks of RB:
 * block [i0, i1) needs keys [0, i1) only, so the products skip the upper triangle but for the diagonal
 * block; the skipped terms are exact zeros of the full product, whose sums they would not change.
 */
#include "compat.h"
#include "attn.h"
#include "fused.h"
#include "gemm.h"
#include "pool.h"
#include <stdlib.h>

#define RB 48 /* rows per block (a multiple of every micro-kernel's row tile: 12, 6, 4) */

static long min_l(long a, long b) { return a < b ? a : b; }

/* C (M, N) (+)= A·B on the calling thread; A(m, k) = a[m·rsa + k·csa], B(k, n) = b[k·rsb + n·csb]. */
static void mm(long M, long N, long K, const float *a, long rsa, long csa, const float *b, long rsb, long csb,
               float *c, long ldc, int acc) {
  gemm_job j = {.batch = 1, .M = M, .N = N, .K = K, .a = a, .rsa = rsa, .csa = csa, .b = b, .rsb = rsb, .csb = csb,
                .c = c, .ldc = ldc, .accumulate = acc};
  gemm_run_serial(&j);
}

typedef struct {
  const attn_layout *L;
  const float *mask, *probs, *dout;
  float *out, *p, *dq, *dk, *dv;
  long ors, dors, dqrs, dkrs, dvrs;
  float scale;
} attn_args;

static void fwd_task(void *ctx, long t) {
  const attn_args *a = ctx;
  const attn_layout *L = a->L;
  const long T = L->T, hs = L->hs, b = t / L->H, h = t % L->H, kv = h / (L->H / L->Hkv);
  const float *q = L->q + b * T * L->qrs + h * hs, *k = L->k + b * T * L->krs + kv * hs, *v = L->v + b * T * L->vrs + kv * hs;
  const float *mask = a->mask ? a->mask + b * T : 0;
  float *p = a->p + t * T * T, *o = a->out + b * T * a->ors + h * hs;
  for (long i0 = 0; i0 < T; i0 += RB) {
    long i1 = min_l(i0 + RB, T);
    mm(i1 - i0, i1, hs, q + i0 * L->qrs, L->qrs, 1, k, 1, L->krs, p + i0 * T, T, 0); /* scores (i, j < i1) */
    for (long i = i0; i < i1; i++) attn_softmax_row(p + i * T, mask, p + i * T, T, i + 1, a->scale);
    mm(i1 - i0, hs, i1, p + i0 * T, T, 1, v, L->vrs, 1, o + i0 * a->ors, a->ors, 0); /* out = P·V */
  }
}

void attn_fwd(const attn_layout *L, const float *keymask, float *out, long ors, float *probs, float scale) {
  if (L->B <= 0 || L->T <= 0 || L->H <= 0) return;
  attn_args a = {.L = L, .mask = keymask, .out = out, .p = probs, .ors = ors, .scale = scale};
  pool_run(L->B * L->H, fwd_task, &a);
}

static __thread float *scratch = 0;
static __thread long scratch_n = 0;

static void bwd_task(void *ctx, long t) {
  const attn_args *a = ctx;
  const attn_layout *L = a->L;
  const long T = L->T, hs = L->hs, g = L->H / L->Hkv, b = t / L->Hkv, kv = t % L->Hkv;
  if (scratch_n < T * T) {
    free(scratch);
    scratch = malloc(sizeof(float) * T * T);
    scratch_n = scratch ? T * T : 0;
    if (!scratch) abort();
  }
  float *ds = scratch; /* (T, T): dP, then dS in place */
  const float *k = L->k + b * T * L->krs + kv * hs, *v = L->v + b * T * L->vrs + kv * hs;
  float *dk = a->dk + b * T * a->dkrs + kv * hs, *dv = a->dv + b * T * a->dvrs + kv * hs;
  for (long r = 0; r < g; r++) {
    const long h = kv * g + r;
    const float *q = L->q + b * T * L->qrs + h * hs, *p = a->probs + (b * L->H + h) * T * T;
    const float *dout = a->dout + b * T * a->dors + h * hs;
    float *dq = a->dq + b * T * a->dqrs + h * hs;
    for (long i0 = 0; i0 < T; i0 += RB) {
      long i1 = min_l(i0 + RB, T);
      mm(i1 - i0, i1, hs, dout + i0 * a->dors, a->dors, 1, v, 1, L->vrs, ds + i0 * T, T, 0); /* dP = dO·Vᵀ */
      for (long i = i0; i < i1; i++) attn_softmax_bwd_row(p + i * T, ds + i * T, ds + i * T, i1, a->scale);
      mm(i1 - i0, hs, i1, ds + i0 * T, T, 1, k, L->krs, 1, dq + i0 * a->dqrs, a->dqrs, 0); /* dQ = dS·K */
    }
    for (long j0 = 0; j0 < T; j0 += RB) { /* key rows j in [j0, j1) see queries i ≥ j0 */
      long j1 = min_l(j0 + RB, T);
      mm(j1 - j0, hs, T - j0, p + j0 * T + j0, 1, T, dout + j0 * a->dors, a->dors, 1, dv + j0 * a->dvrs, a->dvrs, r > 0); /* dV = Pᵀ·dO */
      mm(j1 - j0, hs, T - j0, ds + j0 * T + j0, 1, T, q + j0 * L->qrs, L->qrs, 1, dk + j0 * a->dkrs, a->dkrs, r > 0); /* dK = dSᵀ·Q */
    }
  }
}

void attn_bwd(const attn_layout *L, const float *probs, const float *dout, long dors, float *dq, long dqrs,
              float *dk, long dkrs, float *dv, long dvrs, float scale) {
  if (L->B <= 0 || L->T <= 0 || L->H <= 0) return;
  attn_args a = {.L = L, .probs = probs, .dout = dout, .dq = dq, .dk = dk, .dv = dv, .dors = dors, .dqrs = dqrs,
                 .dkrs = dkrs, .dvrs = dvrs, .scale = scale};
  pool_run(L->B * L->Hkv, bwd_task, &a);
}
