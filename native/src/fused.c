/*
 * Fused kernels (see fused.h). Work is split into fixed chunks (never by thread count) so every result
 * is bit-identical across thread counts; reductions over rows sum fixed-size partials in chunk order.
 * exp is approx.h's branch-free polynomial, which the compiler vectorises.
 */
#include "compat.h"
#include "fused.h"
#include "pool.h"
#include "approx.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK 16384   /* elements per task of an elementwise kernel */
#define ROW_CHUNK 32  /* rows per task of a row kernel */
#define CLONES __attribute__((target_clones("avx512f", "avx2,fma", "default")))

static inline float tanh_approx(float x) {
  float ax = x < 0 ? -x : x;
  float e = exp_approx(-2.f * ax);
  float t = (1.f - e) / (1.f + e);
  return x < 0 ? -t : t;
}

#define GELU_C 0.7978845608028654f
#define GELU_A 0.044715f

typedef struct { const float *x, *dy; float *y; long n; } ew_args;

CLONES static void gelu_fwd_range(const float *x, float *y, long n) {
  for (long i = 0; i < n; i++) {
    float v = x[i];
    float t = tanh_approx(GELU_C * (v + GELU_A * v * v * v));
    y[i] = 0.5f * v * (1.f + t);
  }
}

CLONES static void gelu_bwd_range(const float *x, const float *dy, float *dx, long n) {
  for (long i = 0; i < n; i++) {
    float v = x[i];
    float t = tanh_approx(GELU_C * (v + GELU_A * v * v * v));
    float d = 0.5f * (1.f + t) + 0.5f * v * (1.f - t * t) * GELU_C * (1.f + 3.f * GELU_A * v * v);
    dx[i] = dy[i] * d;
  }
}

static void gelu_fwd_task(void *c, long t) {
  ew_args *a = c;
  long s = t * CHUNK, e = s + CHUNK < a->n ? s + CHUNK : a->n;
  gelu_fwd_range(a->x + s, a->y + s, e - s);
}
static void gelu_bwd_task(void *c, long t) {
  ew_args *a = c;
  long s = t * CHUNK, e = s + CHUNK < a->n ? s + CHUNK : a->n;
  gelu_bwd_range(a->x + s, a->dy + s, a->y + s, e - s);
}
void gelu_fwd(const float *x, float *y, long n) {
  ew_args a = {x, 0, y, n};
  pool_run((n + CHUNK - 1) / CHUNK, gelu_fwd_task, &a);
}
void gelu_bwd(const float *x, const float *dy, float *dx, long n) {
  ew_args a = {x, dy, dx, n};
  pool_run((n + CHUNK - 1) / CHUNK, gelu_bwd_task, &a);
}

/* ---- LayerNorm / RMSNorm ---- */

typedef struct {
  const float *x, *g, *b, *mean, *rstd, *dy;
  float *y, *meanOut, *rstdOut, *dx, *partG, *partB;
  long R, D;
  float eps;
  int rms;
} norm_args;

CLONES static void norm_fwd_rows(const norm_args *a, long r0, long r1) {
  const long D = a->D;
  for (long r = r0; r < r1; r++) {
    const float *x = a->x + r * D;
    float *y = a->y + r * D;
    double s = 0;
    float mean = 0.f;
    if (!a->rms) {
      for (long d = 0; d < D; d++) s += x[d];
      mean = (float)(s / D);
    }
    double q = 0;
    for (long d = 0; d < D; d++) {
      float c = x[d] - mean;
      q += (double)c * c;
    }
    float rstd = (float)(1.0 / sqrt(q / D + a->eps));
    if (a->b) for (long d = 0; d < D; d++) y[d] = (x[d] - mean) * rstd * a->g[d] + a->b[d];
    else for (long d = 0; d < D; d++) y[d] = (x[d] - mean) * rstd * a->g[d];
    if (a->meanOut) a->meanOut[r] = mean;
    a->rstdOut[r] = rstd;
  }
}

/* dx for rows r0..r1 and this chunk's partial dg/db (pg, pb of D floats). */
CLONES static void norm_bwd_rows(const norm_args *a, long r0, long r1, float *pg, float *pb) {
  const long D = a->D;
  for (long d = 0; d < D; d++) pg[d] = 0.f;
  if (pb) for (long d = 0; d < D; d++) pb[d] = 0.f;
  for (long r = r0; r < r1; r++) {
    const float *x = a->x + r * D, *dy = a->dy + r * D;
    float *dx = a->dx + r * D;
    float mean = a->rms ? 0.f : a->mean[r], rstd = a->rstd[r];
    double sg = 0, sgx = 0;
    for (long d = 0; d < D; d++) {
      float xh = (x[d] - mean) * rstd;
      float gh = dy[d] * a->g[d];
      sg += gh;
      sgx += (double)gh * xh;
      pg[d] += dy[d] * xh;
    }
    if (pb) for (long d = 0; d < D; d++) pb[d] += dy[d];
    float mg = a->rms ? 0.f : (float)(sg / D), mgx = (float)(sgx / D);
    for (long d = 0; d < D; d++) {
      float xh = (x[d] - mean) * rstd;
      dx[d] = (dy[d] * a->g[d] - mg - xh * mgx) * rstd;
    }
  }
}

static void norm_fwd_task(void *c, long t) {
  norm_args *a = c;
  long r0 = t * ROW_CHUNK, r1 = r0 + ROW_CHUNK < a->R ? r0 + ROW_CHUNK : a->R;
  norm_fwd_rows(a, r0, r1);
}
static void norm_bwd_task(void *c, long t) {
  norm_args *a = c;
  long r0 = t * ROW_CHUNK, r1 = r0 + ROW_CHUNK < a->R ? r0 + ROW_CHUNK : a->R;
  norm_bwd_rows(a, r0, r1, a->partG + t * a->D, a->partB ? a->partB + t * a->D : 0);
}

/* out[d] = Σ_t part[t][d], in chunk order. */
static void sum_parts(const float *part, long chunks, long D, float *out) {
  for (long d = 0; d < D; d++) out[d] = 0.f;
  for (long t = 0; t < chunks; t++)
    for (long d = 0; d < D; d++) out[d] += part[t * D + d];
}

void layernorm_fwd(const float *x, const float *g, const float *b, float *y, float *mean, float *rstd, long R, long D, float eps) {
  norm_args a = {.x = x, .g = g, .b = b, .y = y, .meanOut = mean, .rstdOut = rstd, .R = R, .D = D, .eps = eps, .rms = 0};
  pool_run((R + ROW_CHUNK - 1) / ROW_CHUNK, norm_fwd_task, &a);
}

static void norm_bwd(norm_args *a, float *dg, float *db) {
  long chunks = (a->R + ROW_CHUNK - 1) / ROW_CHUNK;
  float *parts = malloc(sizeof(float) * chunks * a->D * (db ? 2 : 1));
  a->partG = parts;
  a->partB = db ? parts + chunks * a->D : 0;
  pool_run(chunks, norm_bwd_task, a);
  sum_parts(a->partG, chunks, a->D, dg);
  if (db) sum_parts(a->partB, chunks, a->D, db);
  free(parts);
}

void layernorm_bwd(const float *x, const float *g, const float *mean, const float *rstd, const float *dy,
                   float *dx, float *dg, float *db, long R, long D) {
  norm_args a = {.x = x, .g = g, .mean = mean, .rstd = rstd, .dy = dy, .dx = dx, .R = R, .D = D, .rms = 0};
  norm_bwd(&a, dg, db);
}

void rmsnorm_fwd(const float *x, const float *w, float *y, float *rstd, long R, long D, float eps) {
  norm_args a = {.x = x, .g = w, .b = 0, .y = y, .meanOut = 0, .rstdOut = rstd, .R = R, .D = D, .eps = eps, .rms = 1};
  pool_run((R + ROW_CHUNK - 1) / ROW_CHUNK, norm_fwd_task, &a);
}

void rmsnorm_bwd(const float *x, const float *w, const float *rstd, const float *dy, float *dx, float *dw, long R, long D) {
  norm_args a = {.x = x, .g = w, .rstd = rstd, .dy = dy, .dx = dx, .R = R, .D = D, .rms = 1};
  norm_bwd(&a, dw, 0);
}

/* ---- log-prob of a target token ---- */

typedef struct { const float *logits, *lse, *dy; const int32_t *t; float *logp, *lseOut, *dl; long R, V; } lp_args;

CLONES static float row_max(const float *x, long n) {
  float m = -INFINITY;
  for (long i = 0; i < n; i++) m = x[i] > m ? x[i] : m;
  return m;
}
CLONES static float row_sum_exp(const float *x, long n, float m) {
  float s = 0.f;
  for (long i = 0; i < n; i++) s += exp_approx(x[i] - m);
  return s;
}
static void lp_fwd_task(void *c, long t) {
  lp_args *a = c;
  long r0 = t * ROW_CHUNK, r1 = r0 + ROW_CHUNK < a->R ? r0 + ROW_CHUNK : a->R;
  for (long r = r0; r < r1; r++) {
    const float *l = a->logits + r * a->V;
    float m = row_max(l, a->V);
    float lse = m + logf(row_sum_exp(l, a->V, m));
    int32_t tg = a->t[r];
    a->lseOut[r] = lse;
    a->logp[r] = (tg >= 0 && tg < a->V ? l[tg] : NAN) - lse;
  }
}
CLONES static void lp_bwd_row(const float *l, float *dl, long V, float lse, float dy) {
  for (long i = 0; i < V; i++) dl[i] = -dy * exp_approx(l[i] - lse);
}
static void lp_bwd_task(void *c, long t) {
  lp_args *a = c;
  long r0 = t * ROW_CHUNK, r1 = r0 + ROW_CHUNK < a->R ? r0 + ROW_CHUNK : a->R;
  for (long r = r0; r < r1; r++) {
    float *dl = a->dl + r * a->V;
    lp_bwd_row(a->logits + r * a->V, dl, a->V, a->lse[r], a->dy[r]);
    int32_t tg = a->t[r];
    if (tg >= 0 && tg < a->V) dl[tg] += a->dy[r];
  }
}
void logprob_fwd(const float *logits, const int32_t *targets, float *logp, float *lse, long R, long V) {
  lp_args a = {.logits = logits, .t = targets, .logp = logp, .lseOut = lse, .R = R, .V = V};
  pool_run((R + ROW_CHUNK - 1) / ROW_CHUNK, lp_fwd_task, &a);
}
void logprob_bwd(const float *logits, const int32_t *targets, const float *lse, const float *dy, float *dlogits, long R, long V) {
  lp_args a = {.logits = logits, .t = targets, .lse = lse, .dy = dy, .dl = dlogits, .R = R, .V = V};
  pool_run((R + ROW_CHUNK - 1) / ROW_CHUNK, lp_bwd_task, &a);
}

/* ---- attention softmax ---- */

typedef struct { const float *s, *mask, *p, *dp; float *out; long B, H, Tq, Tk, past; float scale; } at_args;

CLONES void attn_softmax_row(const float *s, const float *mask, float *p, long n, long limit, float scale) {
  float m = -INFINITY;
  for (long j = 0; j < limit; j++) {
    float v = s[j] * scale;
    int ok = !mask || mask[j] != 0.f;
    m = ok && v > m ? v : m;
  }
  float sum = 0.f;
  for (long j = 0; j < limit; j++) {
    int ok = (!mask || mask[j] != 0.f) && m > -INFINITY;
    float e = ok ? exp_approx(s[j] * scale - m) : 0.f;
    p[j] = e;
    sum += e;
  }
  float inv = sum > 0.f ? 1.f / sum : 0.f;
  for (long j = 0; j < limit; j++) p[j] *= inv;
  for (long j = limit; j < n; j++) p[j] = 0.f;
}
static void at_fwd_task(void *c, long t) {
  at_args *a = c; /* one task = one (b, h) */
  long b = t / a->H;
  const float *mask = a->mask ? a->mask + b * a->Tk : 0;
  for (long i = 0; i < a->Tq; i++) {
    long limit = a->past + i + 1 < a->Tk ? a->past + i + 1 : a->Tk;
    long off = (t * a->Tq + i) * a->Tk;
    attn_softmax_row(a->s + off, mask, a->out + off, a->Tk, limit, a->scale);
  }
}
CLONES void attn_softmax_bwd_row(const float *p, const float *dp, float *ds, long n, float scale) {
  float dot = 0.f;
  for (long j = 0; j < n; j++) dot += p[j] * dp[j];
  for (long j = 0; j < n; j++) ds[j] = scale * p[j] * (dp[j] - dot);
}
static void at_bwd_task(void *c, long t) {
  at_args *a = c;
  for (long i = 0; i < a->Tq; i++) {
    long off = (t * a->Tq + i) * a->Tk;
    attn_softmax_bwd_row(a->p + off, a->dp + off, a->out + off, a->Tk, a->scale);
  }
}
void attn_softmax_fwd(const float *scores, const float *keymask, float *probs, long B, long H, long Tq, long Tk, long past, float scale) {
  at_args a = {.s = scores, .mask = keymask, .out = probs, .B = B, .H = H, .Tq = Tq, .Tk = Tk, .past = past, .scale = scale};
  pool_run(B * H, at_fwd_task, &a);
}
void attn_softmax_bwd(const float *probs, const float *dprobs, float *dscores, long BH, long Tq, long Tk, float scale) {
  at_args a = {.p = probs, .dp = dprobs, .out = dscores, .B = BH, .H = 1, .Tq = Tq, .Tk = Tk, .scale = scale};
  pool_run(BH, at_bwd_task, &a);
}

/* ---- AdamW ---- */

typedef struct { float *p, *m, *v; const float *g; long n; float lr, b1, b2, eps, bc1, bc2, decay, gscale; } adam_args;

CLONES static void adam_range(float *p, float *m, float *v, const float *g, long n, float lr, float b1, float b2,
                              float eps, float bc1, float bc2, float decay, float gscale) {
  for (long i = 0; i < n; i++) {
    float gi = gscale == 1.f ? g[i] : g[i] * gscale;
    float mi = m[i] * b1 + gi * (1.f - b1);
    float vi = v[i] * b2 + gi * gi * (1.f - b2);
    m[i] = mi;
    v[i] = vi;
    float upd = (mi / bc1) / (sqrtf(vi / bc2) + eps);
    float pd = decay > 0.f ? p[i] * (1.f - decay) : p[i];
    p[i] = pd - upd * lr;
  }
}
static void adam_task(void *c, long t) {
  adam_args *a = c;
  long s = t * CHUNK, e = s + CHUNK < a->n ? s + CHUNK : a->n;
  adam_range(a->p + s, a->m + s, a->v + s, a->g + s, e - s, a->lr, a->b1, a->b2, a->eps, a->bc1, a->bc2, a->decay, a->gscale);
}
void adamw_update(float *p, float *m, float *v, const float *g, long n, float lr, float beta1, float beta2,
                  float eps, float bc1, float bc2, float decay, float gscale) {
  adam_args a = {p, m, v, g, n, lr, beta1, beta2, eps, bc1, bc2, decay, gscale};
  pool_run((n + CHUNK - 1) / CHUNK, adam_task, &a);
}

/* ---- reductions ---- */

typedef struct { const float *x; float *part; double *dpart; long R, C, n; } red_args;

CLONES static void colsum_rows(const float *x, float *out, long r0, long r1, long C) {
  for (long c = 0; c < C; c++) out[c] = 0.f;
  for (long r = r0; r < r1; r++)
    for (long c = 0; c < C; c++) out[c] += x[r * C + c];
}
static void colsum_task(void *c, long t) {
  red_args *a = c;
  long r0 = t * ROW_CHUNK * 4, r1 = r0 + ROW_CHUNK * 4 < a->R ? r0 + ROW_CHUNK * 4 : a->R;
  colsum_rows(a->x, a->part + t * a->C, r0, r1, a->C);
}
void col_sum(const float *x, float *out, long R, long C) {
  long chunks = (R + ROW_CHUNK * 4 - 1) / (ROW_CHUNK * 4);
  if (chunks <= 1) {
    colsum_rows(x, out, 0, R, C);
    return;
  }
  red_args a = {.x = x, .part = malloc(sizeof(float) * chunks * C), .R = R, .C = C};
  pool_run(chunks, colsum_task, &a);
  sum_parts(a.part, chunks, C, out);
  free(a.part);
}

CLONES static double sumsq_range(const float *x, long n) {
  double s = 0;
  for (long i = 0; i < n; i++) s += (double)x[i] * x[i];
  return s;
}
static void sumsq_task(void *c, long t) {
  red_args *a = c;
  long s = t * CHUNK, e = s + CHUNK < a->n ? s + CHUNK : a->n;
  a->dpart[t] = sumsq_range(a->x + s, e - s);
}
double sum_squares(const float *x, long n) {
  long chunks = (n + CHUNK - 1) / CHUNK;
  red_args a = {.x = x, .dpart = malloc(sizeof(double) * (chunks ? chunks : 1)), .n = n};
  pool_run(chunks, sumsq_task, &a);
  double s = 0;
  for (long t = 0; t < chunks; t++) s += a.dpart[t];
  free(a.dpart);
  return s;
}
