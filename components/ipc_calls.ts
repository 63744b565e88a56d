/**
 * The IPC calls between components, read from their `-debug=ipc` lines:
 * each `{thread} IPC client send X.m$Params` is paired with the
 * `{thread} IPC client recv X.m$Results` (or `IPC client exception`) that
 * the same component logs next on the same thread, giving the caller (the
 * component that logged it), the callee (the component serving interface
 * `X`, from {@linkcode IpcCallLog}'s table), the method and the duration as
 * the lines arrived. Memory is bounded: at most {@linkcode MAX_PENDING}
 * calls waiting for their answer and {@linkcode MAX_KEPT} finished ones.
 *
 * @example
 * ```ts
 * import { IpcCallLog } from "./ipc_calls.ts";
 * const calls = new IpcCallLog({ Node: "node" });
 * calls.line("gui", "{gui-1/main} IPC client send Node.getNumBlocks$Params", 1000);
 * calls.line("gui", "{gui-1/main} IPC client recv Node.getNumBlocks$Results", 1004);
 * const [call] = calls.take();
 * if (call.callee !== "node" || call.method !== "Node.getNumBlocks" || call.durationMs !== 4) {
 *   throw new Error(JSON.stringify(call));
 * }
 * ```
 * @module
 */
import type { IpcCall } from "../schemas/gen/ipc/supervision.mp.ts";

/** Calls waiting for their answer that are kept; older ones are dropped. */
export const MAX_PENDING = 1000;

/** Finished calls kept until taken; older ones are dropped. */
export const MAX_KEPT = 5000;

const CLIENT_LINE = /\{([^}]*)\} IPC client (send|recv|exception) ?(\S*)/;

interface Pending {
  component: string;
  thread: string;
  method: string;
  at: number;
}

/** Finished IPC calls read from components' log lines. */
export class IpcCallLog {
  readonly #servedBy: Readonly<Record<string, string>>;
  readonly #ignored: ReadonlySet<string>;
  #pending: Pending[] = [];
  #finished: IpcCall[] = [];
  #dropped = 0;

  /**
   * `servedBy` names the component serving each interface (`Node` →
   * `"node"`); calls on others have the callee `"peer"`. Calls on the
   * interfaces in `ignored` are not recorded (a feed of the calls must not
   * report its own deliveries, or it would never fall silent).
   */
  constructor(servedBy: Readonly<Record<string, string>>, ignored: readonly string[] = []) {
    this.#servedBy = servedBy;
    this.#ignored = new Set(ignored);
  }

  /** Reads one line `component` logged, received at `now` (ms since the epoch). */
  line(component: string, text: string, now: number = Date.now()): void {
    const match = CLIENT_LINE.exec(text);
    if (match === null) return;
    const [, thread, kind, struct] = match;
    if (kind === "send") {
      const method = struct.replace(/\$Params$/, "");
      if (this.#ignored.has(method.split(".")[0])) return;
      if (this.#pending.push({ component, thread, method, at: now }) > MAX_PENDING) {
        this.#pending.shift();
      }
      return;
    }
    const method = kind === "recv" ? struct.replace(/\$Results$/, "") : null;
    const index = this.#pending.findIndex((p) =>
      p.component === component && p.thread === thread && (method === null || p.method === method)
    );
    if (index < 0) return;
    const [call] = this.#pending.splice(index, 1);
    const iface = call.method.split(".")[0];
    if (this.#finished.length >= MAX_KEPT) {
      this.#finished.shift();
      this.#dropped++;
    }
    this.#finished.push({
      at: call.at,
      caller: component,
      callee: this.#servedBy[iface] ?? "peer",
      method: call.method,
      durationMs: now - call.at,
      ok: kind === "recv",
    });
  }

  /** The finished calls not taken yet, oldest first; they are forgotten here. */
  take(): IpcCall[] {
    const calls = this.#finished;
    this.#finished = [];
    return calls;
  }

  /** Finished calls dropped before being taken (more than {@linkcode MAX_KEPT} waited). */
  get dropped(): number {
    return this.#dropped;
  }
}
