/**
 * Bitcoin Core's `Echo` answered in this process: it returns what it is
 * given. The node's `Init.makeEcho` hands it out, and the process `echoipc`
 * spawns serves it.
 *
 * @example
 * ```ts
 * import { LocalEcho } from "./echo.ts";
 * if (new LocalEcho().echo("hi") !== "hi") throw new Error("echo");
 * ```
 * @module
 */
import type { Echo } from "../../../schemas/gen/ipc/echo.mp.ts";

/** An `Echo` answering in this process. */
export class LocalEcho implements Echo {
  /** Returns `echo` unchanged. */
  echo(echo: string): string {
    return echo;
  }
}
