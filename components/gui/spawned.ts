/**
 * The gui under the sandbox, as `deno task gui` and `deno task start` run
 * it: {@linkcode planGui} grants it exactly its port (`-guiport`, 18480 by
 * default) on 127.0.0.1 and nothing else, {@linkcode startGui} starts it
 * under the launcher's supervisor, connected to the node (a supervised node
 * with a fresh one-time token per run, or a node started elsewhere), and
 * hands every run of it the launcher's `Supervision` and the session token,
 * which stays the same across the gui's restarts so an open page carries
 * on.
 *
 * @example
 * ```ts
 * import { loadComponent } from "../../host.ts";
 * import { planGui } from "./spawned.ts";
 * const gui = await loadComponent(new URL(".", import.meta.url).pathname);
 * const plan = planGui(gui, ["-guiport=18999"]);
 * const net = plan.component.manifest.permissions.net.join(",");
 * if (net !== "127.0.0.1:18999") throw new Error(net);
 * ```
 * @module
 */
import { GuiInit } from "../../schemas/gen/ipc/gui.mp.ts";
import {
  type Component,
  type ExternalListener,
  newToken,
  type Supervised,
  type Supervisor,
} from "../../host.ts";
import type { Supervision } from "../../schemas/gen/ipc/supervision.mp.ts";
import { disconnected } from "../../component.ts";
import { guiNetGrant, parseGuiArgs } from "./options.ts";

/** How the gui runs. */
export interface GuiPlan {
  /** Its component, the manifest's net grant that of its port. */
  readonly component: Component;
  /** Its arguments after the contract's own. */
  readonly args: readonly string[];
  /** Its port on 127.0.0.1. */
  readonly port: number;
}

/** Plans the gui's run with its options (`-guiport`, `-noipctoken`, `-debug=ipc`). */
export function planGui(component: Component, args: readonly string[]): GuiPlan {
  const options = parseGuiArgs(args);
  const { manifest } = component;
  return {
    component: {
      ...component,
      manifest: {
        ...manifest,
        permissions: { ...manifest.permissions, net: [guiNetGrant(options)] },
      },
    },
    args,
    port: options.port,
  };
}

/** A gui running under the supervisor. */
export interface RunningGui {
  /** The supervised gui. */
  readonly supervised: Supervised<GuiInit>;
  /** The URL to open, with the session token. */
  readonly url: string;
}

/**
 * Starts the gui under `supervisor`, connected to `node` (and restarted
 * with `restartWith`); resolves once it serves, with its URL. After each restart the gui is started again with
 * the same token and `supervision`, until it fails or is stopped.
 */
export async function startGui(
  supervisor: Supervisor,
  plan: GuiPlan,
  node: Supervised<unknown> | ExternalListener,
  supervision: Supervision,
  restartWith: readonly Supervised<unknown>[] = [],
): Promise<RunningGui> {
  const token = newToken().hex;
  const supervised = await supervisor.start(GuiInit, plan.component, {
    args: plan.args,
    connectTo: node,
    restartWith,
  });
  const first = Promise.withResolvers<string>();
  supervised.failed.then((error) => first.reject(error));
  (async () => {
    for (;;) {
      let init;
      try {
        init = await supervised.current();
      } catch {
        return; // failed or stopped for good
      }
      try {
        first.resolve(await init.start(supervision, token));
        await disconnected(init);
      } catch {
        // The instance died before it answered: current() waits for the next one.
      } finally {
        init[Symbol.dispose]();
      }
    }
  })();
  return { supervised, url: await first.promise };
}
