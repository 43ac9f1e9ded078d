/*
 * Single-precision matrix products on strided operands: C (M, N) = op(A)·op(B) (+ C when accumulating),
 * where A(m, k) = a[m·rsa + k·csa] and B(k, n) = b[k·rsb + n·csb], so a transposed operand is only a
 * swap of its strides and is never copied out. Batched over `batch` entries with element strides
 * sa/sb/sc between entries (0 broadcasts an operand). Runs on the thread pool; results are bit-identical
 * for every thread count (each output tile is computed by one task with a fixed summation order).
 */
#ifndef DAP_GEMM_H
#define DAP_GEMM_H

typedef struct {
  long batch, M, N, K;
  const float *a; long rsa, csa, sa;
  const float *b; long rsb, csb, sb;
  float *c; long ldc, sc;
  int accumulate;
} gemm_job;

void gemm_run(const gemm_job *job);
/** The same product on the calling thread alone (for kernels that run it inside their own pool tasks); same results. */
void gemm_run_serial(const gemm_job *job);
/** Name of the micro-kernel chosen for this CPU ("avx512", "avx2" or "generic"). */
const char *gemm_kernel_name(void);

#endif
