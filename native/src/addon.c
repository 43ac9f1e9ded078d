/*
 * Node-API entry points of the native kernels. Every kernel takes the wasm backend's heap (an
 * ArrayBuffer) and byte offsets of its tensors in it, so the kernels read and write tfjs tensors in
 * place: no copy in or out. Sizes and strides are plain numbers (element counts). Node-API is ABI-stable,
 * so one binary serves every Node ≥ 18 and Electron (VS Code) of the same platform.
 */
#include "compat.h"
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include "gemm.h"
#include "fused.h"
#include "flash.h"
#include "attn.h"
#include "moves.h"
#include "llama_ops.h"
#include "pool.h"

#ifndef DAP_SOURCE_HASH
#define DAP_SOURCE_HASH "unknown"
#endif

#define MAX_ARGS 24

typedef struct { napi_env env; size_t argc; napi_value argv[MAX_ARGS]; uint8_t *heap; size_t heapLen; int ok; } call;

static int begin(napi_env env, napi_callback_info info, call *c, size_t want, int heap) {
  c->env = env;
  c->argc = MAX_ARGS;
  c->ok = 1;
  c->heap = 0;
  napi_get_cb_info(env, info, &c->argc, c->argv, 0, 0);
  if (c->argc < want) {
    napi_throw_type_error(env, 0, "dap-kernels: too few arguments");
    return 0;
  }
  if (heap) {
    void *data = 0;
    if (napi_get_arraybuffer_info(env, c->argv[0], &data, &c->heapLen) != napi_ok) {
      napi_throw_type_error(env, 0, "dap-kernels: argument 0 must be the wasm heap (ArrayBuffer)");
      return 0;
    }
    c->heap = data;
  }
  return 1;
}

static double num(call *c, size_t i) {
  double v = 0;
  if (napi_get_value_double(c->env, c->argv[i], &v) != napi_ok) c->ok = 0;
  return v;
}
static long lnum(call *c, size_t i) { return (long)num(c, i); }

/* Pointer to a float tensor at byte offset argv[i]; null for a negative offset. */
static float *fptr(call *c, size_t i) {
  double off = num(c, i);
  if (off < 0) return 0;
  return (float *)(c->heap + (size_t)off);
}

static napi_value undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

static napi_value done(call *c) {
  if (!c->ok) napi_throw_type_error(c->env, 0, "dap-kernels: arguments must be numbers");
  return undefined(c->env);
}

static napi_value js_set_threads(napi_env env, napi_callback_info info) {
  call c;
  if (!begin(env, info, &c, 1, 0)) return 0;
  pool_set_threads((int)num(&c, 0));
  return done(&c);
}

static napi_value js_threads(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value v;
  napi_create_int32(env, pool_threads(), &v);
  return v;
}

static napi_value js_cores(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value v;
  napi_create_int32(env, (int)sysconf(_SC_NPROCESSORS_ONLN), &v);
  return v;
}

static napi_value js_gemm(napi_env env, napi_callback_info info) {
  call c;
  if (!begin(env, info, &c, 17, 1)) return 0;
  gemm_job j = {
    .batch = lnum(&c, 1), .M = lnum(&c, 2), .N = lnum(&c, 3), .K = lnum(&c, 4),
    .a = fptr(&c, 5), .rsa = lnum(&c, 6), .csa = lnum(&c, 7), .sa = lnum(&c, 8),
    .b = fptr(&c, 9), .rsb = lnum(&c, 10), .csb = lnum(&c, 11), .sb = lnum(&c, 12),
    .c = fptr(&c, 13), .ldc = lnum(&c, 14), .sc = lnum(&c, 15), .accumulate = (int)num(&c, 16),
  };
  if (c.ok) gemm_run(&j);
  return done(&c);
}

static napi_value js_gelu_fwd(napi_env env, napi_callback_info info) {
  call c;
  if (!begin(env, info, &c, 4, 1)) return 0;
  if (c.ok) gelu_fwd(fptr(&c, 1), fptr(&c, 2), lnum(&c, 3));
  return done(&c);
}

static napi_value js_gelu_bwd(napi_env env, napi_callback_info info) {
  call c;
  if (!begin(env, info, &c, 5, 1)) return 0;
  if (c.ok) gelu_bwd(fptr(&c, 1), fptr(&c, 2), fptr(&c, 3), lnum(&c, 4));
  return done(&c);
}

static napi_value js_layernorm_fwd(napi_env env, napi_callback_info info) {
  call c;
  if (!begin(env, info, &c, 10, 1)) return 0;
  layernorm_fwd(fptr(&c, 1), fptr(&c, 2), fptr(&c, 3), fptr(&c, 4), fptr(&c, 5), fptr(&c, 6), lnum(&c, 7), lnum(&c, 8), (float)num(&c, 9));
  return done(&c);
}

static napi_value js_layernorm_bwd(napi_env env, napi_callback_info info) {
  call c;
  if (!begin(env, info, &c, 11, 1)) return 0;
  layernorm_bwd(fptr(&c, 1), fptr(&c, 2), fptr(&c, 3), fptr(&c, 4), fptr(&c, 5), fptr(&c, 6), fptr(&c, 7), fptr(&c, 8), lnum(&c, 9), lnum(&c, 10));
  return done(&c);
}

static napi_value js_rmsnorm_fwd(napi_env env, napi_callback_info info) {
  call c;
  if (!begin(env, info, &c, 8, 1)) return 0;
  rmsnorm_fwd(fptr(&c, 1), fptr(&c, 2), fptr(&c, 3), fptr(&c, 4), lnum(&c, 5), lnum(&c, 6), (float)num(&c, 7));
  return done(&c);
}

static napi_value js_rmsnorm_bwd(napi_env env, napi_callback_info info) {
  call c;
  if (!begin(env, info, &c, 9, 1)) return 0;
  rmsnorm_bwd(fptr(&c, 1), fptr(&c, 2), fptr(&c, 3), fptr(&c, 4), fptr(&c, 5), fptr(&c, 6), lnum(&c, 7), lnum(&c, 8));
  return done(&c);
}

static napi_value js_logprob_fwd(napi_env env, napi_callback_info info) {
  call c;
  if (!begin(env, info, &c, 7, 1)) return 0;
  logprob_fwd(fptr(&c, 1), (const int32_t *)fptr(&c, 2), fptr(&c, 3), fptr(&c, 4), lnum(&c, 5), lnum(&c, 6));
  return done(&c);
}

static napi_value js_logprob_bwd(napi_env env, napi_callback_info info) {
  call c;
  if (!begin(env, info, &c, 8, 1)) return 0;
  logprob_bwd(fptr(&c, 1), (const int32_t *)fptr(&c, 2), fptr(&c, 3), fptr(&c, 4), fptr(&c, 5), lnum(&c, 6), lnum(&c, 7));
  return done(&c);
}

static napi_value js_attn_softmax_fwd(napi_env env, napi_callback_info info) {
  call c;
  if (!begin(env, info, &c, 10, 1)) return 0;
  attn_softmax_fwd(fptr(&c, 1), fptr(&c, 2), fptr(&c, 3), lnum(&c, 4), lnum(&c, 5), lnum(&c, 6), lnum(&c, 7), lnum(&c, 8), (float)num(&c, 9));
  return done(&c);
}

static napi_value js_attn_softmax_bwd(napi_env env, napi_callback_info info) {
  call c;
  if (!begin(env, info, &c, 8, 1)) return 0;
  attn_softmax_bwd(fptr(&c, 1), fptr(&c, 2), fptr(&c, 3), lnum(&c, 4), lnum(&c, 5), lnum(&c, 6), (float)num(&c, 7));
  return done(&c);
}

static napi_value js_adamw(napi_env env, napi_callback_info info) {
  call c;
  if (!begin(env, info, &c, 14, 1)) return 0;
  adamw_update(fptr(&c, 1), fptr(&c, 2), fptr(&c, 3), fptr(&c, 4), lnum(&c, 5), (float)num(&c, 6), (float)num(&c, 7),
               (float)num(&c, 8), (float)num(&c, 9), (float)num(&c, 10), (float)num(&c, 11), (float)num(&c, 12),
               (float)num(&c, 13));
  return done(&c);
}

static napi_value js_col_sum(napi_env env, napi_callback_info info) {
  call c;
  if (!begin(env, info, &c, 5, 1)) return 0;
  col_sum(fptr(&c, 1), fptr(&c, 2), lnum(&c, 3), lnum(&c, 4));
  return done(&c);
}

static napi_value js_sum_squares(napi_env env, napi_callback_info info) {
  call c;
  if (!begin(env, info, &c, 3, 1)) return 0;
  double s = sum_squares(fptr(&c, 1), lnum(&c, 2));
  napi_value v;
  napi_create_double(env, s, &v);
  return v;
}

static napi_value js_flash_fwd(napi_env env, napi_callback_info info) {
  call c;
  if (!begin(env, info, &c, 12, 1)) return 0;
  flash_attn_fwd(fptr(&c, 1), fptr(&c, 2), fptr(&c, 3), fptr(&c, 4), fptr(&c, 5), fptr(&c, 6), lnum(&c, 7), lnum(&c, 8),
                 lnum(&c, 9), lnum(&c, 10), (float)num(&c, 11));
  return done(&c);
}

static napi_value js_flash_bwd(napi_env env, napi_callback_info info) {
  call c;
  if (!begin(env, info, &c, 16, 1)) return 0;
  flash_attn_bwd(fptr(&c, 1), fptr(&c, 2), fptr(&c, 3), fptr(&c, 4), fptr(&c, 5), fptr(&c, 6), fptr(&c, 7), fptr(&c, 8),
                 fptr(&c, 9), fptr(&c, 10), lnum(&c, 11), lnum(&c, 12), lnum(&c, 13), lnum(&c, 14), (float)num(&c, 15));
  return done(&c);
}

/* (heap, q, qrs, k, krs, v, vrs, keymask, out, ors, probs, B, T, H, Hkv, hs, scale) */
static napi_value js_attn_fwd(napi_env env, napi_callback_info info) {
  call c;
  if (!begin(env, info, &c, 17, 1)) return 0;
  attn_layout L = {fptr(&c, 1), fptr(&c, 3), fptr(&c, 5), lnum(&c, 2), lnum(&c, 4), lnum(&c, 6),
                   lnum(&c, 11), lnum(&c, 12), lnum(&c, 13), lnum(&c, 14), lnum(&c, 15)};
  if (c.ok) attn_fwd(&L, fptr(&c, 7), fptr(&c, 8), lnum(&c, 9), fptr(&c, 10), (float)num(&c, 16));
  return done(&c);
}

/* (heap, q, qrs, k, krs, v, vrs, probs, dout, dors, dq, dqrs, dk, dkrs, dv, dvrs, B, T, H, Hkv, hs, scale) */
static napi_value js_attn_bwd(napi_env env, napi_callback_info info) {
  call c;
  if (!begin(env, info, &c, 22, 1)) return 0;
  attn_layout L = {fptr(&c, 1), fptr(&c, 3), fptr(&c, 5), lnum(&c, 2), lnum(&c, 4), lnum(&c, 6),
                   lnum(&c, 16), lnum(&c, 17), lnum(&c, 18), lnum(&c, 19), lnum(&c, 20)};
  if (c.ok) attn_bwd(&L, fptr(&c, 7), fptr(&c, 8), lnum(&c, 9), fptr(&c, 10), lnum(&c, 11), fptr(&c, 12), lnum(&c, 13),
                     fptr(&c, 14), lnum(&c, 15), (float)num(&c, 21));
  return done(&c);
}

static napi_value js_add_bcast(napi_env env, napi_callback_info info) {
  call c;
  if (!begin(env, info, &c, 6, 1)) return 0;
  add_bcast(fptr(&c, 1), fptr(&c, 2), fptr(&c, 3), lnum(&c, 4), lnum(&c, 5));
  return done(&c);
}

/* (heap, src, dst, n0, n1, n2, n3, s0, s1, s2, s3) */
static napi_value js_strided_copy(napi_env env, napi_callback_info info) {
  call c;
  if (!begin(env, info, &c, 11, 1)) return 0;
  long shape[4] = {lnum(&c, 3), lnum(&c, 4), lnum(&c, 5), lnum(&c, 6)};
  long strides[4] = {lnum(&c, 7), lnum(&c, 8), lnum(&c, 9), lnum(&c, 10)};
  if (c.ok) strided_copy4(fptr(&c, 1), fptr(&c, 2), shape, strides);
  return done(&c);
}

/* (heap, table, ids, out, n, D, V) → index of the first id outside [0, V), or -1 */
static napi_value js_gather_rows(napi_env env, napi_callback_info info) {
  call c;
  if (!begin(env, info, &c, 7, 1)) return 0;
  long bad = -1;
  if (c.ok) bad = gather_rows(fptr(&c, 1), (const int32_t *)fptr(&c, 2), fptr(&c, 3), lnum(&c, 4), lnum(&c, 5), lnum(&c, 6));
  if (!c.ok) return done(&c);
  napi_value v;
  napi_create_double(env, (double)bad, &v);
  return v;
}

static napi_value js_segment_sum(napi_env env, napi_callback_info info) {
  call c;
  if (!begin(env, info, &c, 7, 1)) return 0;
  if (c.ok) segment_sum_rows(fptr(&c, 1), (const int32_t *)fptr(&c, 2), fptr(&c, 3), lnum(&c, 4), lnum(&c, 5), lnum(&c, 6));
  return done(&c);
}

static napi_value js_swiglu_fwd(napi_env env, napi_callback_info info) {
  call c;
  if (!begin(env, info, &c, 5, 1)) return 0;
  if (c.ok) swiglu_fwd(fptr(&c, 1), fptr(&c, 2), fptr(&c, 3), lnum(&c, 4));
  return done(&c);
}

static napi_value js_swiglu_bwd(napi_env env, napi_callback_info info) {
  call c;
  if (!begin(env, info, &c, 7, 1)) return 0;
  if (c.ok) swiglu_bwd(fptr(&c, 1), fptr(&c, 2), fptr(&c, 3), fptr(&c, 4), fptr(&c, 5), lnum(&c, 6));
  return done(&c);
}

/* (heap, x, cos, sin, y, B, H, T, Dh, CB, inverse, bthd) */
static napi_value js_rope(napi_env env, napi_callback_info info) {
  call c;
  if (!begin(env, info, &c, 12, 1)) return 0;
  if (c.ok) rope_apply(fptr(&c, 1), fptr(&c, 2), fptr(&c, 3), fptr(&c, 4), lnum(&c, 5), lnum(&c, 6), lnum(&c, 7), lnum(&c, 8), lnum(&c, 9), (int)num(&c, 10), (int)num(&c, 11));
  return done(&c);
}

static napi_value js_info(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value o, v;
  napi_create_object(env, &o);
  napi_create_string_utf8(env, gemm_kernel_name(), NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, o, "kernel", v);
  napi_create_string_utf8(env, DAP_SOURCE_HASH, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, o, "sourceHash", v);
  return o;
}

static napi_value init(napi_env env, napi_value exports) {
  struct { const char *name; napi_callback fn; } fns[] = {
    {"setThreads", js_set_threads}, {"threads", js_threads}, {"cores", js_cores}, {"info", js_info},
    {"gemm", js_gemm}, {"geluFwd", js_gelu_fwd}, {"geluBwd", js_gelu_bwd},
    {"layerNormFwd", js_layernorm_fwd}, {"layerNormBwd", js_layernorm_bwd},
    {"rmsNormFwd", js_rmsnorm_fwd}, {"rmsNormBwd", js_rmsnorm_bwd},
    {"logProbFwd", js_logprob_fwd}, {"logProbBwd", js_logprob_bwd},
    {"attnSoftmaxFwd", js_attn_softmax_fwd}, {"attnSoftmaxBwd", js_attn_softmax_bwd},
    {"adamw", js_adamw}, {"flashFwd", js_flash_fwd}, {"flashBwd", js_flash_bwd}, {"attnFwd", js_attn_fwd}, {"attnBwd", js_attn_bwd}, {"colSum", js_col_sum}, {"sumSquares", js_sum_squares},
    {"addBcast", js_add_bcast}, {"stridedCopy", js_strided_copy}, {"gatherRows", js_gather_rows}, {"segmentSum", js_segment_sum},
    {"swigluFwd", js_swiglu_fwd}, {"swigluBwd", js_swiglu_bwd}, {"rope", js_rope},
  };
  for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
    napi_value f;
    napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, 0, &f);
    napi_set_named_property(env, exports, fns[i].name, f);
  }
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
