/*
 * Fused kernels of the Llama path: the SwiGLU MLP activation and rotary position embeddings, each one
 * forward and one backward pass on the thread pool with a fixed split (results independent of the thread
 * count), instead of a chain of tfjs kernels (sigmoid, two products; a rotate-half product, two products
 * and a sum) and their temporaries.
 */
#ifndef DAP_LLAMA_OPS_H
#define DAP_LLAMA_OPS_H

/* y = silu(g)·u = g·σ(g)·u (Llama's MLP), elementwise over n. */
void swiglu_fwd(const float *g, const float *u, float *y, long n);
/* dg = dy·u·σ(g)·(1 + g·(1 − σ(g))), du = dy·g·σ(g). */
void swiglu_bwd(const float *g, const float *u, const float *dy, float *dg, float *du, long n);
/* RoPE, rotate_half form: x (B, H, T, Dh) — or (B, T, H, Dh) when bthd —, cos/sin (CB, T, Dh) with CB = B or 1 (shared by every row):
   y = x·cos + rotate_half(x)·sin, rotate_half(x) = (−x[half:], x[:half]). inverse = 1 applies the
   transpose (the gradient): dx = dy·cos + rotate_halfᵀ(dy·sin), rotate_halfᵀ(z) = (z[half:], −z[:half]). */
void rope_apply(const float *x, const float *cos, const float *sin, float *y, long B, long H, long T, long Dh, long CB, int inverse, int bthd);

#endif
