/*
 * Blocked SGEMM (see gemm.h). Classic three-level blocking: the K axis in KC slices, A packed into
 * MR-row panels and B into NR-column panels (packing reads the strided source, which is how transposed
 * operands cost nothing extra), and an MR×NR register-tile micro-kernel written with GCC vector
 * extensions and compiled once per instruction set (AVX-512, AVX2+FMA, SSE2), picked at load time.
 * One task = one (batch entry, MC rows, NCB columns) tile with its whole K loop, so a tile's sums are
 * always formed in the same order whatever thread runs it.
 */
#include "compat.h"
#include "gemm.h"
#include "pool.h"
#include <stdlib.h>
#include <string.h>

#define KC 256
#define MC_PANELS 8   /* MC = MC_PANELS·MR rows per task */
#define NC_PANELS 8   /* NCB = NC_PANELS·NR columns per task */
#define MAX_MR 12
#define MAX_NR 48

typedef void (*micro_fn)(long kc, const float *pa, const float *pb, float *c, long ldc, int acc, long mr, long nr);

typedef struct { const char *name; int mr, nr; micro_fn fn; } kernel_desc;

/* One micro-kernel per target: acc (MR, NV vectors of VW floats) += pa(:, k) ⊗ pb(k, :) over kc. */
#define DEFINE_MICRO(NAME, TARGET, VW, MR, NV)                                                        \
  __attribute__((target(TARGET))) static void NAME(long kc, const float *restrict pa,                 \
      const float *restrict pb, float *restrict c, long ldc, int acc_in, long mr, long nr) {          \
    typedef float vec __attribute__((vector_size((VW) * 4)));                                           \
    typedef float uvec __attribute__((vector_size((VW) * 4), aligned(4)));                              \
    vec acc[MR][NV];                                                                                  \
    _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++)                                             \
      _Pragma("GCC unroll 4") for (int j = 0; j < NV; j++) acc[i][j] = (vec){0};                       \
    for (long k = 0; k < kc; k++) {                                                                   \
      vec bv[NV];                                                                                     \
      _Pragma("GCC unroll 4") for (int j = 0; j < NV; j++) bv[j] = *(const vec *)(pb + k * (VW) * (NV) + j * (VW)); \
      _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++) {                                         \
        float av = pa[k * (MR) + i];                                                                  \
        _Pragma("GCC unroll 4") for (int j = 0; j < NV; j++) acc[i][j] += bv[j] * av;                \
      }                                                                                               \
    }                                                                                                 \
    if (mr == (MR) && nr == (VW) * (NV)) {                                                            \
      _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++)                                           \
        _Pragma("GCC unroll 4") for (int j = 0; j < NV; j++) {                                         \
          uvec *dst = (uvec *)(c + i * ldc + j * (VW));                                                \
          *dst = acc_in ? *dst + acc[i][j] : acc[i][j];                                               \
        }                                                                                             \
    } else {                                                                                          \
      float tmp[MR][(VW) * (NV)] __attribute__((aligned(64)));                                        \
      _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++)                                           \
        _Pragma("GCC unroll 4") for (int j = 0; j < NV; j++) *(vec *)(&tmp[i][j * (VW)]) = acc[i][j]; \
      for (long i = 0; i < mr; i++)                                                                   \
        for (long j = 0; j < nr; j++) c[i * ldc + j] = acc_in ? c[i * ldc + j] + tmp[i][j] : tmp[i][j]; \
    }                                                                                                 \
  }

DEFINE_MICRO(micro_avx512, "avx512f,fma", 16, 12, 2)
DEFINE_MICRO(micro_avx2, "avx2,fma", 8, 6, 2)
DEFINE_MICRO(micro_generic, "sse2", 4, 4, 2)

static kernel_desc kernel;

__attribute__((constructor)) static void pick_kernel(void) {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma")) kernel = (kernel_desc){"avx512", 12, 32, micro_avx512};
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) kernel = (kernel_desc){"avx2", 6, 16, micro_avx2};
  else kernel = (kernel_desc){"generic", 4, 8, micro_generic};
}

const char *gemm_kernel_name(void) { return kernel.name; }

/* Per-thread packing buffers, allocated once at their largest size. */
static __thread float *buf_a = 0;
static __thread float *buf_b = 0;

static void ensure_buffers(void) {
  if (!buf_a) buf_a = aligned_alloc(64, sizeof(float) * MC_PANELS * MAX_MR * KC);
  if (!buf_b) buf_b = aligned_alloc(64, sizeof(float) * NC_PANELS * MAX_NR * KC);
}

/* pa[p][k][i] = A(m0 + p·MR + i, k0 + k), zero beyond mc. */
static void pack_a(const float *a, long rsa, long csa, long mc, long kc, int MR, float *pa) {
  for (long p = 0; p < mc; p += MR) {
    long rows = mc - p < MR ? mc - p : MR;
    const float *src = a + p * rsa;
    if (csa == 1 && rows == MR) {
      for (long k = 0; k < kc; k++)
        for (int i = 0; i < MR; i++) pa[k * MR + i] = src[i * rsa + k];
    } else {
      for (long k = 0; k < kc; k++) {
        for (long i = 0; i < rows; i++) pa[k * MR + i] = src[i * rsa + k * csa];
        for (long i = rows; i < MR; i++) pa[k * MR + i] = 0.f;
      }
    }
    pa += kc * MR;
  }
}

/* pb[p][k][j] = B(k0 + k, n0 + p·NR + j), zero beyond nc. */
static void pack_b(const float *b, long rsb, long csb, long kc, long nc, int NR, float *pb) {
  for (long p = 0; p < nc; p += NR) {
    long cols = nc - p < NR ? nc - p : NR;
    const float *src = b + p * csb;
    if (csb == 1 && cols == NR) {
      for (long k = 0; k < kc; k++) memcpy(pb + k * NR, src + k * rsb, sizeof(float) * NR);
    } else {
      for (long k = 0; k < kc; k++) {
        for (long j = 0; j < cols; j++) pb[k * NR + j] = src[k * rsb + j * csb];
        for (long j = cols; j < NR; j++) pb[k * NR + j] = 0.f;
      }
    }
    pb += kc * NR;
  }
}

typedef struct { const gemm_job *job; long mt, nt; } gemm_plan;

static void gemm_task(void *ctx, long t) {
  const gemm_plan *plan = ctx;
  const gemm_job *j = plan->job;
  const int MR = kernel.mr, NR = kernel.nr;
  const long MC = (long)MC_PANELS * MR, NCB = (long)NC_PANELS * NR;
  long per_batch = plan->mt * plan->nt;
  long bi = t / per_batch, r = t % per_batch;
  long m0 = (r / plan->nt) * MC, n0 = (r % plan->nt) * NCB;
  long mc = j->M - m0 < MC ? j->M - m0 : MC;
  long nc = j->N - n0 < NCB ? j->N - n0 : NCB;
  const float *a = j->a + bi * j->sa + m0 * j->rsa;
  const float *b = j->b + bi * j->sb + n0 * j->csb;
  float *c = j->c + bi * j->sc + m0 * j->ldc + n0;
  ensure_buffers();
  for (long k0 = 0; k0 < j->K; k0 += KC) {
    long kc = j->K - k0 < KC ? j->K - k0 : KC;
    int acc = j->accumulate || k0 > 0;
    pack_a(a + k0 * j->csa, j->rsa, j->csa, mc, kc, MR, buf_a);
    pack_b(b + k0 * j->rsb, j->rsb, j->csb, kc, nc, NR, buf_b);
    for (long jp = 0; jp < nc; jp += NR) {
      long nr = nc - jp < NR ? nc - jp : NR;
      const float *pb = buf_b + (jp / NR) * kc * NR;
      for (long ip = 0; ip < mc; ip += MR) {
        long mr = mc - ip < MR ? mc - ip : MR;
        kernel.fn(kc, buf_a + (ip / MR) * kc * MR, pb, c + ip * j->ldc + jp, j->ldc, acc, mr, nr);
      }
    }
  }
}

void gemm_run(const gemm_job *job) {
  if (job->batch <= 0 || job->M <= 0 || job->N <= 0) return;
  if (job->K <= 0) {
    if (!job->accumulate)
      for (long bi = 0; bi < job->batch; bi++)
        for (long m = 0; m < job->M; m++) memset(job->c + bi * job->sc + m * job->ldc, 0, sizeof(float) * job->N);
    return;
  }
  const long MC = (long)MC_PANELS * kernel.mr, NCB = (long)NC_PANELS * kernel.nr;
  gemm_plan plan = {job, (job->M + MC - 1) / MC, (job->N + NCB - 1) / NCB};
  long tasks = job->batch * plan.mt * plan.nt;
  /* Small products (< ~1 MFLOP, a few microseconds) run on the caller alone: waking workers would cost
     more than it saves. The same tasks run either way, so the result is the same. */
  if (2.0 * job->batch * job->M * job->N * job->K < 1e6) {
    for (long t = 0; t < tasks; t++) gemm_task(&plan, t);
    return;
  }
  pool_run(tasks, gemm_task, &plan);
}
