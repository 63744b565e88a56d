/**
 * Bitcoin Core's `node::Warnings`: the warnings the node raised, each kept
 * from the moment it is set until the node stops (Core unsets none of
 * these), as `getblockchaininfo`, `getmininginfo` and `getnetworkinfo`
 * report them (`GetWarningsForRpc`). The node sets
 * {@linkcode unknownRulesWarning} when a version bit it does not know
 * activates (`CheckUnknownActivations`), and runs `-alertnotify` for a
 * warning newly set (`KernelNotifications::warningSet`).
 *
 * @example
 * ```ts
 * import { unknownRulesWarning, Warnings } from "./warnings.ts";
 * const warnings = new Warnings();
 * if (!warnings.set("UNKNOWN_NEW_RULES_ACTIVATED", unknownRulesWarning(27))) throw new Error();
 * if (warnings.set("UNKNOWN_NEW_RULES_ACTIVATED", unknownRulesWarning(26))) throw new Error();
 * const deprecated = new Set(["warnings"]);
 * if (warnings.forRpc(deprecated) !== "Unknown new rules activated (versionbit 27)") throw new Error();
 * ```
 * @module
 */

/** Which warning (`kernel::Warning`); the only one this node raises. */
export type WarningId = "UNKNOWN_NEW_RULES_ACTIVATED";

/** Core's text for an unknown version bit locked in or active. */
export function unknownRulesWarning(bit: number): string {
  return `Unknown new rules activated (versionbit ${bit})`;
}

/** The node's warnings (`node::Warnings`). */
export class Warnings {
  readonly #messages = new Map<WarningId, string>();

  /**
   * `Warnings::Set`: keeps `message` under `id` unless a message is kept
   * under it already (the first stays); whether it was newly set.
   */
  set(id: WarningId, message: string): boolean {
    if (this.#messages.has(id)) return false;
    this.#messages.set(id, message);
    return true;
  }

  /** `Warnings::GetMessages`: every message kept (a release build adds none of its own). */
  messages(): string[] {
    return [...this.#messages.values()];
  }

  /**
   * `GetWarningsForRpc`: the messages, or with `-deprecatedrpc=warnings`
   * (`deprecated` holding `warnings`) the last one as a string, `""` when none.
   */
  forRpc(deprecated: ReadonlySet<string>): string[] | string {
    const messages = this.messages();
    return deprecated.has("warnings") ? messages.at(-1) ?? "" : messages;
  }
}
