/*
 * Fused elementwise / row kernels of the training step, each one pass over its operands instead of a
 * chain of tfjs kernels, all on the thread pool with a fixed split (results independent of the thread
 * count): GELU (tanh form), LayerNorm and RMSNorm with their gradients, log-softmax of a target token and
 * its gradient, the causal (+ key padding) softmax of attention and its gradient, the AdamW update in
 * place, column sums (bias gradients without a transposed copy) and a sum of squares (gradient norm).
 * Shapes: R rows of D (or V) floats, row-major.
 */
#ifndef DAP_FUSED_H
#define DAP_FUSED_H
#include <stdint.h>

void gelu_fwd(const float *x, float *y, long n);
void gelu_bwd(const float *x, const float *dy, float *dx, long n);
/* y = (x − mean)·rstd·g + b; writes mean and rstd (R) for the backward pass. b may be 0 (RMSNorm-like). */
void layernorm_fwd(const float *x, const float *g, const float *b, float *y, float *mean, float *rstd, long R, long D, float eps);
void layernorm_bwd(const float *x, const float *g, const float *mean, const float *rstd, const float *dy,
                   float *dx, float *dg, float *db, long R, long D);
void rmsnorm_fwd(const float *x, const float *w, float *y, float *rstd, long R, long D, float eps);
void rmsnorm_bwd(const float *x, const float *w, const float *rstd, const float *dy, float *dx, float *dw, long R, long D);
/* logp[r] = logits[r, t[r]] − logsumexp(logits[r, :]); writes lse (R). */
void logprob_fwd(const float *logits, const int32_t *targets, float *logp, float *lse, long R, long V);
/* dlogits[r, :] = dy[r]·(onehot(t[r]) − softmax(logits[r, :])). */
void logprob_bwd(const float *logits, const int32_t *targets, const float *lse, const float *dy, float *dlogits, long R, long V);
/* probs (BH, Tq, Tk) = softmax(scale·scores) over keys j ≤ past + i with keymask[b, j] ≠ 0 (others 0). */
void attn_softmax_fwd(const float *scores, const float *keymask, float *probs, long B, long H, long Tq, long Tk, long past, float scale);
/* One row of it in place or not: n keys, the first `limit` visible (mask permitting), zeros after. */
void attn_softmax_row(const float *s, const float *mask, float *p, long n, long limit, float scale);
/* dscores = scale·probs·(dprobs − Σ_j probs·dprobs). */
void attn_softmax_bwd(const float *probs, const float *dprobs, float *dscores, long BH, long Tq, long Tk, float scale);
/* One row of it over n keys (in place allowed). */
void attn_softmax_bwd_row(const float *p, const float *dp, float *ds, long n, float scale);
/* In place: g ← gscale·g (not stored), m, v ← moments, p ← p·(1 − decay) − lr·m̂/(√v̂ + eps). */
void adamw_update(float *p, float *m, float *v, const float *g, long n, float lr, float beta1, float beta2,
                  float eps, float bc1, float bc2, float decay, float gscale);
/* out (C) = Σ_r x[r, :] (fixed-order partial sums). */
void col_sum(const float *x, float *out, long R, long C);
/* Σ x² in float64, fixed-order partial sums. */
double sum_squares(const float *x, long n);

#endif
