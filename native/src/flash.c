/*
 * Causal attention kernels without (T, T) intermediates (see flash.h). Query i attends to keys j ≤ i
 * whose mask is nonzero; a query with no such key gets a zero output and lse = +∞ (no gradient).
 * Inner loops run over the head dimension and are vectorised per instruction set.
 */
#include "compat.h"
#include "flash.h"
#include "pool.h"
#include <math.h>
#include <string.h>

#define CLONES __attribute__((target_clones("avx512f", "avx2,fma", "default")))

static inline float dot(const float *a, const float *b, long n) {
  float s = 0.f;
  for (long i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

static inline void axpy(float *y, float a, const float *x, long n) {
  for (long i = 0; i < n; i++) y[i] += a * x[i];
}

typedef struct {
  const float *q, *k, *v, *mask, *out, *lse, *dout;
  float *o, *l, *dq, *dk, *dv;
  long B, H, T, Dh;
  float scale;
} flash_args;

CLONES static void fwd_bh(const flash_args *a, long bh) {
  const long T = a->T, Dh = a->Dh;
  const float *mask = a->mask ? a->mask + (bh / a->H) * T : 0;
  const float *q = a->q + bh * T * Dh, *k = a->k + bh * T * Dh, *v = a->v + bh * T * Dh;
  float *o = a->o + bh * T * Dh, *lse = a->l + bh * T;
  float s[T];
  for (long i = 0; i < T; i++) {
    float m = -INFINITY;
    for (long j = 0; j <= i; j++) {
      if (mask && mask[j] == 0.f) { s[j] = -INFINITY; continue; }
      s[j] = a->scale * dot(q + i * Dh, k + j * Dh, Dh);
      m = s[j] > m ? s[j] : m;
    }
    float *oi = o + i * Dh;
    memset(oi, 0, sizeof(float) * Dh);
    if (m == -INFINITY) { lse[i] = INFINITY; continue; }
    float sum = 0.f;
    for (long j = 0; j <= i; j++) {
      if (s[j] == -INFINITY) continue;
      float p = expf(s[j] - m);
      sum += p;
      axpy(oi, p, v + j * Dh, Dh);
    }
    float inv = 1.f / sum;
    for (long d = 0; d < Dh; d++) oi[d] *= inv;
    lse[i] = m + logf(sum);
  }
}

CLONES static void bwd_bh(const flash_args *a, long bh) {
  const long T = a->T, Dh = a->Dh;
  const float *mask = a->mask ? a->mask + (bh / a->H) * T : 0;
  const long base = bh * T * Dh;
  const float *q = a->q + base, *k = a->k + base, *v = a->v + base, *o = a->out + base, *dout = a->dout + base;
  const float *lse = a->lse + bh * T;
  float *dq = a->dq + base, *dk = a->dk + base, *dv = a->dv + base;
  memset(dq, 0, sizeof(float) * T * Dh);
  memset(dk, 0, sizeof(float) * T * Dh);
  memset(dv, 0, sizeof(float) * T * Dh);
  for (long i = 0; i < T; i++) {
    if (lse[i] == INFINITY) continue;
    const float *qi = q + i * Dh, *gi = dout + i * Dh;
    float Di = dot(gi, o + i * Dh, Dh);
    for (long j = 0; j <= i; j++) {
      if (mask && mask[j] == 0.f) continue;
      float p = expf(a->scale * dot(qi, k + j * Dh, Dh) - lse[i]);
      axpy(dv + j * Dh, p, gi, Dh);
      float ds = p * (dot(gi, v + j * Dh, Dh) - Di) * a->scale;
      axpy(dq + i * Dh, ds, k + j * Dh, Dh);
      axpy(dk + j * Dh, ds, qi, Dh);
    }
  }
}

static void fwd_task(void *c, long t) { fwd_bh(c, t); }
static void bwd_task(void *c, long t) { bwd_bh(c, t); }

void flash_attn_fwd(const float *q, const float *k, const float *v, const float *keymask, float *out, float *lse,
                    long B, long H, long T, long Dh, float scale) {
  flash_args a = {.q = q, .k = k, .v = v, .mask = keymask, .o = out, .l = lse, .B = B, .H = H, .T = T, .Dh = Dh, .scale = scale};
  pool_run(B * H, fwd_task, &a);
}

void flash_attn_bwd(const float *q, const float *k, const float *v, const float *keymask, const float *out,
                    const float *lse, const float *dout, float *dq, float *dk, float *dv,
                    long B, long H, long T, long Dh, float scale) {
  flash_args a = {.q = q, .k = k, .v = v, .mask = keymask, .out = out, .lse = lse, .dout = dout,
                  .dq = dq, .dk = dk, .dv = dv, .B = B, .H = H, .T = T, .Dh = Dh, .scale = scale};
  pool_run(B * H, bwd_task, &a);
}
