/**
 * The exhaustiveness guard that ends every switch over a closed union: the webview protocols
 * (webview/protocol/), the worker protocol (src/train/worker/protocol.ts), training events, filters.
 * `default: assertUnreachable(x)` makes adding a member without handling it a compile error (the
 * argument's type must be `never`), and names the value if one slips through at run time.
 * It lives in core, the floor every layer may import, and imports nothing, so the webview bundles can
 * import it too without pulling in Node code (the layer test allows exactly such files).
 */
export function assertUnreachable(x: never): never {
  throw new Error(`unhandled value: ${JSON.stringify(x)}`);
}
