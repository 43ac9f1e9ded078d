/**
 * Normal samples for the engine's weight init (Box–Muller over the uniforms of the one PRNG,
 * src/core/random.ts). Plain JavaScript, so results are the same on every tfjs backend.
 */

/** Fills a new Float32Array with N(0, std²) samples from a seeded generator. */
export function normalArray(n: number, std: number, rand: () => number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u1 = Math.max(rand(), 1e-12);
    const u2 = rand();
    const r = Math.sqrt(-2 * Math.log(u1)) * std;
    out[i] = r * Math.cos(2 * Math.PI * u2);
    if (i + 1 < n) out[i + 1] = r * Math.sin(2 * Math.PI * u2);
  }
  return out;
}
