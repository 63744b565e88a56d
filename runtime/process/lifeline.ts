/**
 * A supervised component's stdin is its lifeline: while the supervisor
 * lives the pipe stays open, and end of file means it is gone, so the
 * component exits at once instead of lingering as an orphan. The same line
 * carries the one-time tokens that authenticate connections to a shared
 * socket path (a socket file has no peer credentials in Deno):
 *
 * - `token <64 hex digits>`: the token this component presents when it
 *   connects (`-ipcconnect`);
 * - `accept <64 hex digits>`: a token a listening component accepts, once.
 *
 * Reading stdin needs no permission. Components started with `-ipcfd`
 * ({@linkcode serve}) and those given `-lifeline` use it.
 *
 * @example
 * ```ts
 * import { newToken, TOKEN_BYTES, wantsLifeline } from "./lifeline.ts";
 * // The supervisor makes a token and announces it (`accept <hex>` on the
 * // listener's stdin); the listener's `lifeline().accept` then takes it once:
 * // `listen(NodeInit, address, init, { authenticate: lifeline().accept })`.
 * const token = newToken();
 * if (token.bytes.length !== TOKEN_BYTES || token.hex.length !== 2 * TOKEN_BYTES) throw new Error();
 * if (!wantsLifeline(["-lifeline"]) || wantsLifeline([])) throw new Error("-lifeline asks for it");
 * ```
 * @module
 */
/** Bytes in a connection token. */
export const TOKEN_BYTES = 32;

/**
 * Whether tokens `a` and `b` are the same bytes, compared in a time that
 * depends only on their lengths (a peer learns nothing from how long a
 * refusal takes). Plain code, rather than `node:crypto`'s `timingSafeEqual`,
 * which every component would otherwise load at start.
 *
 * @example
 * ```ts
 * import { sameToken } from "./lifeline.ts";
 * if (!sameToken(new Uint8Array([1, 2]), new Uint8Array([1, 2]))) throw new Error("same");
 * if (sameToken(new Uint8Array([1, 2]), new Uint8Array([1, 3]))) throw new Error("differ");
 * ```
 */
export function sameToken(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a[i]! ^ b[i]!;
  return difference === 0;
}

/** Announced tokens kept; older unused ones are forgotten. */
const MAX_ANNOUNCED = 64;

/** What the supervisor told this component over its control line. */
export interface Lifeline {
  /** The token to present when connecting; waits for the `token` line. */
  token(): Promise<Uint8Array>;
  /**
   * Whether `token` was announced with `accept`; each is accepted once. A
   * token not announced yet is waited for (its `accept` line may still be
   * on its way) until `signal` aborts, then refused.
   */
  accept(token: Uint8Array, signal: AbortSignal): Promise<boolean>;
}

let current: Lifeline | null = null;

/** What runs when the control line closes; by default the process exits with status 0. */
let closed: () => void = () => Deno.exit(0);

/**
 * Replaces what happens when the control line closes (an exit with status 0
 * by default), so a component with state to flush can shut down cleanly
 * first. The handler must end the process.
 */
export function onLifelineClosed(handler: () => void): void {
  closed = handler;
}

/** Whether `args` ask for the stdin lifeline (`-lifeline`). */
export function wantsLifeline(args: readonly string[]): boolean {
  return args.some((arg) => /^--?lifeline$/.test(arg));
}

/**
 * Starts reading stdin as the control line (once per process) and returns
 * what arrives on it. When stdin closes the process exits with status 0, or
 * runs the handler given to {@linkcode onLifelineClosed}.
 */
export function lifeline(): Lifeline {
  if (current !== null) return current;
  let own: Uint8Array | null = null;
  let ownArrived: (token: Uint8Array) => void = () => {};
  const ownPromise = new Promise<Uint8Array>((resolve) => ownArrived = resolve);
  const accepted: Uint8Array[] = [];
  /** Wakes the connections waiting for their token to be announced. */
  let announced = Promise.withResolvers<void>();
  (async () => {
    let buffered = "";
    try {
      for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
        buffered += chunk;
        let newline;
        while ((newline = buffered.indexOf("\n")) >= 0) {
          const match = /^(token|accept) ([0-9a-f]{64})$/.exec(buffered.slice(0, newline));
          buffered = buffered.slice(newline + 1);
          if (match === null) continue;
          const token = Uint8Array.from(match[2]!.match(/../g)!, (hex) => parseInt(hex, 16));
          if (match[1] === "accept") {
            if (accepted.push(token) > MAX_ANNOUNCED) accepted.shift();
            announced.resolve();
            announced = Promise.withResolvers();
          } else if (own === null) ownArrived(own = token);
        }
      }
    } finally {
      closed();
    }
  })();
  current = {
    token: () => ownPromise,
    async accept(token, signal) {
      const aborted = new Promise<void>((resolve) => {
        if (signal.aborted) resolve();
        signal.addEventListener("abort", () => resolve(), { once: true });
      });
      for (;;) {
        const index = accepted.findIndex((known) => sameToken(known, token));
        if (index >= 0) {
          accepted.splice(index, 1);
          return true;
        }
        if (signal.aborted) return false;
        await Promise.race([announced.promise, aborted]);
      }
    },
  };
  return current;
}

/** A fresh random token and its control-line hex form. */
export function newToken(): { bytes: Uint8Array; hex: string } {
  const bytes = crypto.getRandomValues(new Uint8Array(TOKEN_BYTES));
  return { bytes, hex: Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("") };
}
