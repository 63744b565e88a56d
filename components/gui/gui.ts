/**
 * The gui process's object: it holds the node's capabilities (`Rpc` for
 * JSON-RPC, `Node` for the tip and its notifications), serves the web
 * interface once the launcher calls `start`, and relays what the node
 * notifies and what the launcher's `Supervision` reports to the pages as
 * server-sent events. It implements `GuiInit` (`schemas/ipc/gui.capnp`).
 *
 * `main.ts` makes one on the node's `Rpc` and `Node` and the launcher
 * calls `start(supervision, token)`, which answers the URL to open
 * (`http://127.0.0.1:18480/?token=…`); `tests/components/gui/` drives it in
 * Chromium.
 * @module
 */
import type { GuiInit } from "../../schemas/gen/ipc/gui.mp.ts";
import type { BlockTip, Node } from "../../schemas/gen/ipc/node.mp.ts";
import type { Rpc } from "../../schemas/gen/ipc/rpc.mp.ts";
import type { Handler } from "../../schemas/gen/ipc/handler.mp.ts";
import type { ComponentInfo, IpcCall, Supervision } from "../../schemas/gen/ipc/supervision.mp.ts";
import { dup, release } from "../../component.ts";
import { GuiServer } from "./server.ts";

/** IPC calls a new page is shown at first. */
export const RECENT_CALLS = 500;

/** The tip as the pages see it. */
export interface TipView {
  height: number;
  /** Display order hex. */
  hash: string;
  /** Seconds since the epoch. */
  time: number;
  mempool: number;
}

/** The node's capabilities the gui uses. */
export interface NodeLink {
  readonly rpc: Rpc;
  readonly node: Node;
}

/** A block hash (internal byte order) in display order hex. */
export function displayHash(hash: Uint8Array): string {
  return Array.from(hash).reverse().map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** A component's figures as JSON can carry them (`residentBytes` as a number). */
function componentJson(info: ComponentInfo) {
  return { ...info, residentBytes: Number(info.residentBytes) };
}

/** The gui's Init: see the module documentation. */
export class Gui implements GuiInit, AsyncDisposable {
  readonly #port: number;
  readonly #link: NodeLink;
  #server: GuiServer | null = null;
  #supervision: Supervision | null = null;
  #watch: Handler | null = null;
  #tipHandler: Handler | null = null;
  #components: ReturnType<typeof componentJson>[] = [];
  #calls: IpcCall[] = [];

  /** A gui on `port` (127.0.0.1) using the node's `link`; it serves once started. */
  constructor(options: { port: number; link: NodeLink }) {
    this.#port = options.port;
    this.#link = options.link;
  }

  async start(supervision: Supervision | null, sessionToken: string): Promise<string> {
    this.#replaceSupervision(supervision === null ? null : dup(supervision));
    if (this.#server !== null) return this.#server.url;
    this.#server = new GuiServer({
      port: this.#port,
      token: sessionToken,
      backend: {
        rpc: (request, uri) => Promise.resolve(this.#link.rpc.executeRpc(request, uri, "gui")),
        hello: () => this.#hello(),
        control: (action, name) => this.#control(action, name),
      },
    });
    this.#tipHandler = await this.#link.node.handleNotifyBlockTip((_state, tip) =>
      this.#onTip(tip)
    );
    if (this.#supervision !== null) await this.#watchSupervision(this.#supervision);
    return this.#server.url;
  }

  checkAccess(path: string): string {
    try {
      const info = Deno.statSync(path);
      if (info.isDirectory) [...Deno.readDirSync(path)];
      else Deno.readFileSync(path);
      return "";
    } catch (error) {
      return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    }
  }

  #replaceSupervision(supervision: Supervision | null): void {
    if (this.#watch !== null) release(this.#watch);
    if (this.#supervision !== null) release(this.#supervision);
    this.#watch = null;
    this.#supervision = supervision;
    if (supervision !== null && this.#server !== null) void this.#watchSupervision(supervision);
  }

  async #watchSupervision(supervision: Supervision): Promise<void> {
    this.#watch = await supervision.watch({
      components: (list) => {
        this.#components = list.map(componentJson);
        this.#server?.publish("components", this.#components);
      },
      ipcCalls: (calls) => {
        this.#calls.push(...calls);
        this.#calls.splice(0, this.#calls.length - RECENT_CALLS);
        this.#server?.publish("ipc", calls);
      },
    }, 2000);
  }

  async #tip(): Promise<TipView> {
    const [tip, mempool] = await Promise.all([
      this.#link.node.getBlockTip(),
      this.#link.node.getMempoolSize(),
    ]);
    return { ...tipView(tip), mempool };
  }

  async #onTip(tip: BlockTip): Promise<void> {
    const mempool = await this.#link.node.getMempoolSize();
    this.#server?.publish("tip", { ...tipView(tip), mempool });
  }

  async #hello() {
    return {
      tip: await this.#tip(),
      supervision: this.#supervision !== null,
      components: this.#components,
      calls: this.#calls,
    };
  }

  async #control(action: "restart" | "stop", name: string): Promise<void> {
    const supervision = this.#supervision;
    if (supervision === null) throw new Error("this gui was given no control of the components");
    if (action === "stop") await supervision.stopComponent(name);
    else await supervision.restartComponent(name);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#tipHandler !== null) release(this.#tipHandler);
    this.#replaceSupervision(null);
    await this.#server?.[Symbol.asyncDispose]();
  }
}

function tipView(tip: BlockTip): Omit<TipView, "mempool"> {
  return { height: tip.blockHeight, hash: displayHash(tip.blockHash), time: tip.blockTime };
}
