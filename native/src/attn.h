/*
 * Causal attention for sequences below the flash threshold, on the projections' own layout: q, k, v are
 * read in place as (B, T, heads, hs) rows of a (B, T, C) tensor — element (b, t, h, d) at
 * p[(b·T + t)·rs + h·hs + d] — so GPT-2's fused (B, T, 3D) c_attn output is read without splitting it and
 * nothing is transposed to (B, H, T, hs); the output is written as (B, T, H, hs) and the gradients dq, dk, dv
 * into the same layouts (for the fused projection: their places of one (B, T, 3D) gradient). Query head h
 * reads key/value head h / (H / Hkv) (grouped-query attention). probs (B, H, T, T) are the forward's
 * softmax, kept for the backward pass (zero above the diagonal and at masked keys).
 * The products are the GEMM's (gemm.h), restricted to the causal lower triangle in row blocks; every
 * element is summed in the same order as the full (B, H, T, T) products of the composite path, so results
 * equal it bit for bit (for Hkv = H) and do not depend on the thread count (one task per (b, head)).
 */
#ifndef DAP_ATTN_H
#define DAP_ATTN_H

typedef struct {
  const float *q, *k, *v;
  long qrs, krs, vrs; /* row strides: elements from (b, t) to (b, t + 1) */
  long B, T, H, Hkv, hs;
} attn_layout;

/* out (B, T, H, hs) with row stride ors; keymask (B, T) (nonzero = real key) or null. */
void attn_fwd(const attn_layout *L, const float *keymask, float *out, long ors, float *probs, float scale);
/* dout (B, T, H, hs) with row stride dors → dq (B, T, H, hs), dk, dv (B, T, Hkv, hs) at their row strides. */
void attn_bwd(const attn_layout *L, const float *probs, const float *dout, long dors, float *dq, long dqrs,
              float *dk, long dkrs, float *dv, long dvrs, float scale);

#endif
