/**
 * Exhaustiveness guard for message switches: every `switch (msg.type)` on both sides of the
 * webview protocol ends in `default: assertUnreachable(msg)`, so adding a message type without
 * handling it is a compile error (the argument's type must be `never`).
 */
export function assertUnreachable(x: never): never {
  throw new Error(`unhandled message: ${JSON.stringify(x)}`);
}
