/*
 * Causal attention without the (T, T) matrices (flash-attention style, on the CPU): the forward keeps only
 * the output and each query's log-sum-exp, the backward recomputes the probabilities row by row. Memory
 * is O(B·H·T·Dh) instead of O(B·H·T²). q, k, v, out, dout, dq, dk, dv: (B, H, T, Dh) row-major;
 * keymask (B, T) (nonzero = real key) or null; lse (B, H, T). One task per (b, h): deterministic.
 */
#ifndef DAP_FLASH_H
#define DAP_FLASH_H

void flash_attn_fwd(const float *q, const float *k, const float *v, const float *keymask, float *out, float *lse,
                    long B, long H, long T, long Dh, float scale);
void flash_attn_bwd(const float *q, const float *k, const float *v, const float *keymask, const float *out,
                    const float *lse, const float *dout, float *dq, float *dk, float *dv,
                    long B, long H, long T, long Dh, float scale);

#endif
