/**
 * Bitcoin Core's `node::Warnings`: the warnings the node raised, as
 * `getblockchaininfo`, `getmininginfo` and `getnetworkinfo` report them
 * (`GetWarningsForRpc`), in Core's order of kinds. The node sets
 * {@linkcode unknownRulesWarning} when a version bit it does not know
 * activates (`CheckUnknownActivations`; kept until it stops), and
 * {@linkcode LARGE_WORK_INVALID_CHAIN_WARNING} while a chain known
 * invalid has more than six blocks' work beyond the tip
 * (`CheckForkWarningConditions`, which unsets it too). It runs
 * `-alertnotify` for a warning newly set (`KernelNotifications::warningSet`).
 *
 * @example
 * ```ts
 * import { LARGE_WORK_INVALID_CHAIN_WARNING, unknownRulesWarning, Warnings } from "./warnings.ts";
 * const warnings = new Warnings();
 * if (!warnings.set("LARGE_WORK_INVALID_CHAIN", LARGE_WORK_INVALID_CHAIN_WARNING)) throw new Error();
 * if (!warnings.set("UNKNOWN_NEW_RULES_ACTIVATED", unknownRulesWarning(27))) throw new Error();
 * if (warnings.set("UNKNOWN_NEW_RULES_ACTIVATED", unknownRulesWarning(26))) throw new Error();
 * // Core's order of kinds, whichever was set first.
 * if (warnings.messages()[0] !== "Unknown new rules activated (versionbit 27)") throw new Error();
 * warnings.unset("LARGE_WORK_INVALID_CHAIN");
 * const deprecated = new Set(["warnings"]);
 * if (warnings.forRpc(deprecated) !== "Unknown new rules activated (versionbit 27)") throw new Error();
 * ```
 * @module
 */

/** Which warning (`kernel::Warning`), in Core's order: the ones this node raises. */
const WARNING_IDS = ["UNKNOWN_NEW_RULES_ACTIVATED", "LARGE_WORK_INVALID_CHAIN"] as const;

/** Which warning (`kernel::Warning`). */
export type WarningId = typeof WARNING_IDS[number];

/** Core's text for an unknown version bit locked in or active. */
export function unknownRulesWarning(bit: number): string {
  return `Unknown new rules activated (versionbit ${bit})`;
}

/** Core's (v30) text for a chain known invalid with more than six blocks' work beyond the tip. */
export const LARGE_WORK_INVALID_CHAIN_WARNING =
  "Warning: We do not appear to fully agree with our peers! You may need to upgrade, or other nodes may need to upgrade.";

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

  /** `Warnings::Unset`: forgets the message kept under `id`, if any. */
  unset(id: WarningId): void {
    this.#messages.delete(id);
  }

  /**
   * `Warnings::GetMessages`: every message kept, in the order of their
   * kinds (a release build adds none of its own).
   */
  messages(): string[] {
    return WARNING_IDS.flatMap((id) => this.#messages.get(id) ?? []);
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
