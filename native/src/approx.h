/*
 * exp_approx: a branch-free polynomial exp (Cephes-style, ~1 ulp) that the compiler vectorises, shared by
 * the fused kernels. Inputs are clamped to float's range; NaN inputs stay NaN.
 */
#ifndef DAP_APPROX_H
#define DAP_APPROX_H
#include <stdint.h>

static inline float exp_approx(float x) {
  x = x > 88.37f ? 88.37f : x;
  x = x < -87.33f ? -87.33f : x;
  float t = x * 1.44269504088896341f;
  float fn = (t + 12582912.f) - 12582912.f; /* round to nearest */
  float r = x - fn * 0.693359375f;
  r = r - fn * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.f;
  union { int32_t i; float f; } s;
  s.i = ((int32_t)fn + 127) << 23;
  return p * s.f;
}

#endif
