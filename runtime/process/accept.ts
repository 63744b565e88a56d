/**
 * An accept loop that survives: only closing the listener ends it. Out of
 * descriptors (EMFILE, ENFILE), an aborted connection (ECONNABORTED) or any
 * other failure of `accept` is waited out with a backoff that doubles from
 * 5 ms to 250 ms, and accepting resumes; the pending connection stays in
 * the kernel's backlog meanwhile. A server that stopped at the first such
 * error could be switched off by anyone able to open connections.
 *
 * @example
 * ```ts
 * import { acceptConnections } from "./accept.ts";
 * const dir = Deno.makeTempDirSync();
 * const path = `${dir}/example.sock`;
 * const listener = Deno.listen({ transport: "unix", path });
 * let accepted = 0;
 * const serving = (async () => {
 *   for await (const conn of acceptConnections(listener)) {
 *     accepted++;
 *     conn.close();
 *   }
 * })();
 * const conn = await Deno.connect({ transport: "unix", path });
 * await conn.read(new Uint8Array(1)); // null once the server has closed it
 * conn.close();
 * listener.close();
 * await serving; // the loop ends once the listener is closed
 * if (accepted !== 1) throw new Error(`accepted ${accepted} connections`);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 * @module
 */

/** How an accept loop reports and stops. */
export interface AcceptOptions {
  /**
   * Called with the first error of each run of failed accepts (later ones
   * of the same run are only retried), so a flood does not flood the log.
   */
  onError?: ((error: Error) => void) | undefined;
  /** Ends the loop, also while it waits to retry. */
  signal?: AbortSignal | undefined;
}

const FIRST_BACKOFF_MS = 5;
const MAX_BACKOFF_MS = 250;

/** Whether `error` means the listener is closed (the loop's only end). */
function listenerClosed(error: unknown): boolean {
  return error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted;
}

let signalsReady = false;

/** Makes Deno set up its signal handling now, while descriptors are free (see above). */
function readySignals(): void {
  if (signalsReady) return;
  signalsReady = true;
  Deno.addSignalListener("SIGWINCH", () => {});
}

/** Waits `ms`, or less when `signal` aborts. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/**
 * Yields each connection `listener` accepts until it is closed (or
 * `signal` aborts); accept failures are retried, never thrown. The next
 * connection is accepted only when the consumer asks for it, so a consumer
 * that waits before asking leaves clients in the backlog.
 */
export async function* acceptConnections<C extends Deno.Conn>(
  listener: Deno.Listener<C>,
  options: AcceptOptions = {},
): AsyncGenerator<C, void, undefined> {
  const { signal, onError } = options;
  readySignals();
  let backoff = 0;
  let failing = false;
  while (!signal?.aborted) {
    let conn: C;
    try {
      conn = await listener.accept();
    } catch (error) {
      if (listenerClosed(error) || signal?.aborted) return;
      if (!failing) onError?.(error as Error);
      failing = true;
      // A connection reset before we took it: the next one may be fine.
      if (error instanceof Deno.errors.ConnectionAborted) continue;
      backoff = Math.min(backoff === 0 ? FIRST_BACKOFF_MS : backoff * 2, MAX_BACKOFF_MS);
      await pause(backoff, signal);
      continue;
    }
    backoff = 0;
    failing = false;
    yield conn;
  }
}
