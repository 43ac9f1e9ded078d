/*
 * Data movement and adds of the training step that tfjs' wasm kernels do slowly (generic scalar loops):
 * broadcast adds (residuals, biases, gradient sums), strided copies (Slice, Transpose), row gathers
 * (embedding lookup) and row scatter-adds (its gradient). Work is split into fixed chunks, never by
 * thread count, and every output element is formed in one fixed order, so results are bit-identical
 * for every thread count (and to the stock kernels: each is the same single float add or a copy).
 */
#ifndef DAP_MOVES_H
#define DAP_MOVES_H
#include <stdint.h>

/* y[i] = a[i] + b[i mod bn] for i < n (bn divides n; bn = n is a plain elementwise add). */
void add_bcast(const float *a, const float *b, float *y, long n, long bn);
/* dst (contiguous, shape[0..3]) = src element (i0, i1, i2, i3) at Σ i_k·strides[k] (a 4-D strided view). */
void strided_copy4(const float *src, float *dst, const long shape[4], const long strides[4]);
/* out row i (D floats) = table row ids[i], i < n. Returns the first i whose id is outside [0, V), else -1 (nothing written then). */
long gather_rows(const float *table, const int32_t *ids, float *out, long n, long D, long V);
/* out (S, D) = 0, then out row ids[i] += x row i for i = 0, 1, … in order; ids outside [0, S) are dropped. */
void segment_sum_rows(const float *x, const int32_t *ids, float *out, long n, long D, long S);

#endif
