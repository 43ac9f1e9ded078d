/*
 * Blocked SGEMM (see gemm.h). Classic three-level blocking: the K axis in KC slices, an MR×NR register-tile
 * micro-kernel written with GCC vector extensions and compiled once per instruction set (AVX-512,
 * AVX2+FMA, SSE2), picked at load time. The micro-kernel reads A(i, k) at pa[k·aks + i] and row k of B at
 * pb + k·bks, so an operand already laid out that way is read in place, not packed: A transposed
 * (rsa = 1, as in xᵀ·dy) and B row-major (csb = 1, as in x·W). Other operands are packed into MR-row /
 * NR-column panels (packing reads the strided source, which is how transposed operands cost nothing
 * extra); a B that must be packed is packed once per K slice for all row tiles (batch 1) rather than
 * once per tile. Every C element is formed the same way on every path and thread count: per K slice,
 * a sum over k in order in the micro-kernel's register, then added to C slice after slice.
 */
#include "compat.h"
#include "gemm.h"
#include "pool.h"
#include <stdlib.h>
#include <string.h>

#define KC 256
#define MC_PANELS 8   /* MC = MC_PANELS·MR rows per task */
#define NC_PANELS 8   /* NCB = NC_PANELS·NR columns per task */
#define N_CHUNK 4096  /* columns of B packed at once (shared packing) */
#define MAX_MR 12
#define MAX_NR 48

typedef void (*micro_fn)(long kc, const float *pa, long aks, const float *pb, long bks, float *c, long ldc, int acc, long mr, long nr);

typedef struct { const char *name; int mr, nr; micro_fn fn; } kernel_desc;

/* One micro-kernel per target: acc (MR, NV vectors of VW floats) += pa(:, k) ⊗ pb(k, :) over kc. */
#define DEFINE_MICRO(NAME, TARGET, VW, MR, NV)                                                        \
  __attribute__((target(TARGET))) static void NAME(long kc, const float *restrict pa, long aks,       \
      const float *restrict pb, long bks, float *restrict c, long ldc, int acc_in, long mr, long nr) { \
    typedef float vec __attribute__((vector_size((VW) * 4)));                                           \
    typedef float uvec __attribute__((vector_size((VW) * 4), aligned(4)));                              \
    vec acc[MR][NV];                                                                                  \
    _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++)                                             \
      _Pragma("GCC unroll 4") for (int j = 0; j < NV; j++) acc[i][j] = (vec){0};                       \
    for (long k = 0; k < kc; k++) {                                                                   \
      vec bv[NV];                                                                                     \
      _Pragma("GCC unroll 4") for (int j = 0; j < NV; j++) bv[j] = *(const uvec *)(pb + j * (VW));    \
      _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++) {                                         \
        float av = pa[i];                                                                             \
        _Pragma("GCC unroll 4") for (int j = 0; j < NV; j++) acc[i][j] += bv[j] * av;                \
      }                                                                                               \
      pa += aks;                                                                                      \
      pb += bks;                                                                                      \
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

static int ensure_buffers(void) {
  if (!buf_a) buf_a = aligned_alloc(64, sizeof(float) * MC_PANELS * MAX_MR * KC);
  if (!buf_b) buf_b = aligned_alloc(64, sizeof(float) * NC_PANELS * MAX_NR * KC);
  return buf_a && buf_b;
}

/* One MR-row panel: pa[k][i] = A(i, k) over kc, zero beyond `rows`. */
static void pack_a_panel(const float *src, long rsa, long csa, long rows, long kc, int MR, float *pa) {
  if (csa == 1 && rows == MR) {
    for (long k = 0; k < kc; k++)
      for (int i = 0; i < MR; i++) pa[k * MR + i] = src[i * rsa + k];
  } else {
    for (long k = 0; k < kc; k++) {
      for (long i = 0; i < rows; i++) pa[k * MR + i] = src[i * rsa + k * csa];
      for (long i = rows; i < MR; i++) pa[k * MR + i] = 0.f;
    }
  }
}

/* One NR-column panel: pb[k][j] = B(k, j) over kc, zero beyond `cols`. */
static void pack_b_panel(const float *src, long rsb, long csb, long kc, long cols, int NR, float *pb) {
  if (csb == 1) {
    for (long k = 0; k < kc; k++) {
      memcpy(pb + k * NR, src + k * rsb, sizeof(float) * cols);
      for (long j = cols; j < NR; j++) pb[k * NR + j] = 0.f;
    }
  } else {
    for (long k = 0; k < kc; k++) {
      for (long j = 0; j < cols; j++) pb[k * NR + j] = src[k * rsb + j * csb];
      for (long j = cols; j < NR; j++) pb[k * NR + j] = 0.f;
    }
  }
}

/*
 * C tile (mc, nc) at c (+)= A tile · B tile over one K slice of kc. A(i, k) = a[i·rsa + k·csa]; B's
 * panels are at `pb` (packed, panel p at pb + p·kc·NR, row stride NR) or, when pb is null, read from b
 * (B(k, j) = b[k·rsb + j·csb]) in place where csb = 1, packed here otherwise.
 */
static void tile_slice(const gemm_job *j, const float *a, const float *b, const float *pb, float *c,
                       long mc, long nc, long kc, int acc) {
  const int MR = kernel.mr, NR = kernel.nr;
  /* A in place when it is transposed (rsa = 1): panel rows are contiguous, k steps by csa. Else packed. */
  int a_direct = j->rsa == 1;
  long full_a = a_direct ? mc / MR : 0;
  for (long p = full_a; p * MR < mc; p++) {
    long rows = mc - p * MR < MR ? mc - p * MR : MR;
    pack_a_panel(a + p * MR * j->rsa, j->rsa, j->csa, rows, kc, MR, buf_a + p * kc * MR);
  }
  for (long jp = 0; jp < nc; jp += NR) {
    long nr = nc - jp < NR ? nc - jp : NR;
    const float *bp;
    long bks;
    if (pb) { bp = pb + (jp / NR) * kc * NR; bks = NR; }
    else if (j->csb == 1 && nr == NR) { bp = b + jp; bks = j->rsb; }
    else { pack_b_panel(b + jp * j->csb, j->rsb, j->csb, kc, nr, NR, buf_b); bp = buf_b; bks = NR; }
    for (long ip = 0; ip < mc; ip += MR) {
      long mr = mc - ip < MR ? mc - ip : MR;
      long p = ip / MR;
      if (p < full_a) kernel.fn(kc, a + ip, j->csa, bp, bks, c + ip * j->ldc + jp, j->ldc, acc, mr, nr);
      else kernel.fn(kc, buf_a + p * kc * MR, MR, bp, bks, c + ip * j->ldc + jp, j->ldc, acc, mr, nr);
    }
  }
}

/* Per-tile path: one task = one (batch entry, MC rows, NCB columns) tile with its whole K loop. */
typedef struct { const gemm_job *job; long mt, nt; } gemm_plan;

static void gemm_task(void *ctx, long t) {
  const gemm_plan *plan = ctx;
  const gemm_job *j = plan->job;
  const long MC = (long)MC_PANELS * kernel.mr, NCB = (long)NC_PANELS * kernel.nr;
  long per_batch = plan->mt * plan->nt;
  long bi = t / per_batch, r = t % per_batch;
  long m0 = (r / plan->nt) * MC, n0 = (r % plan->nt) * NCB;
  long mc = j->M - m0 < MC ? j->M - m0 : MC;
  long nc = j->N - n0 < NCB ? j->N - n0 : NCB;
  const float *a = j->a + bi * j->sa + m0 * j->rsa;
  const float *b = j->b + bi * j->sb + n0 * j->csb;
  float *c = j->c + bi * j->sc + m0 * j->ldc + n0;
  if (!ensure_buffers()) abort();
  for (long k0 = 0; k0 < j->K; k0 += KC) {
    long kc = j->K - k0 < KC ? j->K - k0 : KC;
    tile_slice(j, a + k0 * j->csa, b + k0 * j->rsb, 0, c, mc, nc, kc, j->accumulate || k0 > 0);
  }
}

/* Shared-packing path (batch 1, B not row-major): per K slice and column chunk, B packed once, then tiles. */
typedef struct { const gemm_job *job; long k0, kc, n0, ncw, mt, nt; float *pb; } slice_plan;

static void pack_task(void *ctx, long p) {
  const slice_plan *s = ctx;
  const gemm_job *j = s->job;
  const int NR = kernel.nr;
  long cols = s->ncw - p * NR < NR ? s->ncw - p * NR : NR;
  pack_b_panel(j->b + s->k0 * j->rsb + (s->n0 + p * NR) * j->csb, j->rsb, j->csb, s->kc, cols, NR, s->pb + p * s->kc * NR);
}

static void slice_task(void *ctx, long t) {
  const slice_plan *s = ctx;
  const gemm_job *j = s->job;
  const long MC = (long)MC_PANELS * kernel.mr, NCB = (long)NC_PANELS * kernel.nr;
  long m0 = (t / s->nt) * MC, n0 = (t % s->nt) * NCB;
  long mc = j->M - m0 < MC ? j->M - m0 : MC;
  long nc = s->ncw - n0 < NCB ? s->ncw - n0 : NCB;
  if (!ensure_buffers()) abort();
  tile_slice(j, j->a + m0 * j->rsa + s->k0 * j->csa, 0, s->pb + (n0 / kernel.nr) * s->kc * kernel.nr,
             j->c + m0 * j->ldc + s->n0 + n0, mc, nc, s->kc, j->accumulate || s->k0 > 0);
}

static float *shared_b = 0;
static long shared_b_size = 0;

static void run_tasks(long n, pool_task_fn fn, void *ctx, double flops) {
  /* Small jobs (< ~1 MFLOP, a few microseconds) run on the caller alone: waking workers would cost more
     than it saves. The same tasks run either way, so the result is the same. */
  if (flops < 1e6) { for (long t = 0; t < n; t++) fn(ctx, t); return; }
  pool_run(n, fn, ctx);
}

/* True when the job has no products to run (empty, or K = 0: C zeroed unless accumulating). */
static int trivial(const gemm_job *job) {
  if (job->batch <= 0 || job->M <= 0 || job->N <= 0) return 1;
  if (job->K > 0) return 0;
  if (!job->accumulate)
    for (long bi = 0; bi < job->batch; bi++)
      for (long m = 0; m < job->M; m++) memset(job->c + bi * job->sc + m * job->ldc, 0, sizeof(float) * job->N);
  return 1;
}

void gemm_run_serial(const gemm_job *job) {
  if (trivial(job)) return;
  const long MC = (long)MC_PANELS * kernel.mr, NCB = (long)NC_PANELS * kernel.nr;
  gemm_plan plan = {job, (job->M + MC - 1) / MC, (job->N + NCB - 1) / NCB};
  for (long t = 0; t < job->batch * plan.mt * plan.nt; t++) gemm_task(&plan, t);
}

void gemm_run(const gemm_job *job) {
  if (trivial(job)) return;
  const long MC = (long)MC_PANELS * kernel.mr, NCB = (long)NC_PANELS * kernel.nr, NR = kernel.nr;
  const long mt = (job->M + MC - 1) / MC;
  const double flops = 2.0 * job->batch * job->M * job->N * job->K;
  if (job->batch == 1 && mt > 1) {
    long chunk = job->N < N_CHUNK ? job->N : N_CHUNK;
    long need = ((chunk + NR - 1) / NR) * NR * (job->K < KC ? job->K : KC);
    if (need > shared_b_size) {
      free(shared_b);
      shared_b = aligned_alloc(64, sizeof(float) * need);
      shared_b_size = shared_b ? need : 0;
    }
    if (shared_b) {
      for (long n0 = 0; n0 < job->N; n0 += chunk) {
        long ncw = job->N - n0 < chunk ? job->N - n0 : chunk;
        for (long k0 = 0; k0 < job->K; k0 += KC) {
          slice_plan s = {job, k0, job->K - k0 < KC ? job->K - k0 : KC, n0, ncw, mt, (ncw + NCB - 1) / NCB, shared_b};
          double sf = 2.0 * job->M * ncw * s.kc;
          run_tasks((ncw + NR - 1) / NR, pack_task, &s, sf);
          run_tasks(s.mt * s.nt, slice_task, &s, sf);
        }
      }
      return;
    }
  }
  gemm_plan plan = {job, mt, (job->N + NCB - 1) / NCB};
  run_tasks(job->batch * plan.mt * plan.nt, gemm_task, &plan, flops);
}
