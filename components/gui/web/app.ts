/// <reference lib="dom" />
/**
 * The gui's page, bundled ahead of time into `web_assets.ts` by
 * `components/gui/build.ts`. Everything goes through the gui's server:
 * `POST /api/rpc` (the node's JSON-RPC over IPC, `/wallet/<name>` for the
 * selected wallet) and the event stream `/api/events` (the tip pushed by
 * the node's `handleNotifyBlockTip`, the components and the IPC calls
 * pushed by the launcher). No polling: views refresh on events and on the
 * user's actions.
 *
 * @module
 */
import qrcode from "qrcode-generator";

// ---------------------------------------------------------------- helpers

/** An error the node answered with. */
class RpcError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  node.append(...children);
  return node;
}

function row(cells: (Node | string)[], attrs: Record<string, string> = {}): HTMLTableRowElement {
  return el("tr", attrs, ...cells.map((cell) => el("td", {}, cell)));
}

/** An error as bitcoin-qt's console shows it: the message and its code. */
function describe(error: unknown): string {
  if (error instanceof RpcError) return `${error.message} (code ${error.code})`;
  return error instanceof Error ? error.message : String(error);
}

function showError(id: string, error: unknown): void {
  $(id).textContent = error === null ? "" : describe(error);
}

/** Calls `method` on the node (on the wallet `wallet`, when given). */
async function rpc(method: string, params: unknown = [], wallet?: string): Promise<unknown> {
  const response = await fetch("/api/rpc", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ method, params, wallet }),
  });
  const body = await response.text();
  let reply: { result?: unknown; error?: { code: number; message: string } | null };
  try {
    reply = JSON.parse(body);
  } catch {
    throw new Error(`the gui answered HTTP ${response.status}: ${body.trim()}`);
  }
  if (reply.error) {
    if ("code" in reply.error) throw new RpcError(reply.error.code, reply.error.message);
    throw new Error(String(reply.error));
  }
  return reply.result;
}

/** The selected wallet, or an error saying none is. */
function wallet(): string {
  const name = ($("wallet") as HTMLSelectElement).value;
  if (!name) throw new Error("No wallet is loaded: create or load one on the Wallets page");
  return name;
}

/**
 * Whether `name` is still the selected wallet: a refresh that finds the
 * user chose another while it waited drops what it read (the choice starts
 * a refresh of its own).
 */
function stillSelected(name: string): boolean {
  return ($("wallet") as HTMLSelectElement).value === name;
}

function time(seconds: number): string {
  return new Date(seconds * 1000).toLocaleString();
}

function btc(value: unknown): string {
  return typeof value === "number" ? value.toFixed(8) : "…";
}

// ---------------------------------------------------------------- pages

const PAGES = [
  "chain",
  "overview",
  "send",
  "receive",
  "transactions",
  "wallets",
  "console",
  "components",
  "ipc",
];

function showPage(): void {
  const page = PAGES.includes(location.hash.slice(1)) ? location.hash.slice(1) : "chain";
  for (const name of PAGES) {
    $(`page-${name}`).classList.toggle("active", name === page);
  }
  for (const link of document.querySelectorAll<HTMLAnchorElement>("#tabs a")) {
    link.classList.toggle("active", link.dataset.page === page);
  }
  if (page === "overview") void refreshOverview();
  if (page === "transactions") void refreshHistory();
  if (page === "wallets") void refreshWallets();
}

// ---------------------------------------------------------------- chain

interface Tip {
  height: number;
  hash: string;
  time: number;
  mempool: number;
}

function renderTip(tip: Tip): void {
  $("height").textContent = String(tip.height);
  $("tip-hash").textContent = tip.hash;
  $("tip-time").textContent = time(tip.time);
  $("mempool").textContent = `${tip.mempool} transaction${tip.mempool === 1 ? "" : "s"}`;
  scheduleBlocks();
}

let blocksTimer: ReturnType<typeof setTimeout> | undefined;

/** Refreshes the recent blocks once a burst of tips has passed. */
function scheduleBlocks(): void {
  clearTimeout(blocksTimer);
  blocksTimer = setTimeout(() => void refreshBlocks(), 150);
}

async function refreshBlocks(): Promise<void> {
  try {
    let hash = await rpc("getbestblockhash") as string;
    const rows: HTMLTableRowElement[] = [];
    for (let i = 0; i < 10 && hash; i++) {
      const block = await rpc("getblock", [hash, 1]) as {
        height: number;
        hash: string;
        time: number;
        nTx: number;
        previousblockhash?: string;
      };
      rows.push(
        row([
          String(block.height),
          el("span", { class: "mono" }, block.hash),
          time(block.time),
          String(block.nTx),
        ]),
      );
      hash = block.previousblockhash ?? "";
    }
    $("blocks").replaceChildren(...rows);
  } catch (error) {
    showError("mine-error", error);
  }
}

async function mine(event: Event): Promise<void> {
  event.preventDefault();
  showError("mine-error", null);
  const count = Number(($("mine-count") as HTMLInputElement).value);
  if (!Number.isInteger(count) || count < 1 || count > 10000) {
    $("mine-error").textContent = "Blocks: a whole number from 1 to 10000";
    return;
  }
  const button = $("mine-button") as HTMLButtonElement;
  const progress = $("mine-progress") as HTMLProgressElement;
  button.disabled = true;
  try {
    let address = ($("mine-address") as HTMLInputElement).value.trim();
    if (!address) {
      try {
        address = await rpc("getnewaddress", [], wallet()) as string;
      } catch (error) {
        throw new Error(`Address: enter one to mine to (no wallet gave one: ${describe(error)})`);
      }
    }
    progress.hidden = false;
    progress.max = count;
    progress.value = 0;
    // In steps, so that long runs show their progress.
    for (let mined = 0; mined < count;) {
      const step = Math.min(10, count - mined);
      await rpc("generatetoaddress", [step, address]);
      mined += step;
      progress.value = mined;
      $("mine-status").textContent = `mined ${mined} of ${count}`;
    }
  } catch (error) {
    showError("mine-error", error);
  } finally {
    button.disabled = false;
  }
}

// ---------------------------------------------------------------- wallets

/**
 * Reads the loaded wallets into the selector and the list. A failure is
 * shown in the list itself: `wallets-error` belongs to the user's last
 * action, whose error this refresh (which follows every action) must not wipe.
 */
async function refreshWalletList(): Promise<void> {
  const select = $("wallet") as HTMLSelectElement;
  const loaded = $("loaded-wallets");
  let names: string[] = [];
  try {
    names = await rpc("listwallets") as string[];
    loaded.textContent = names.length === 0 ? "none" : names.join(", ");
    loaded.classList.remove("error");
  } catch (error) {
    loaded.textContent = `unknown: ${describe(error)}`;
    loaded.classList.add("error");
  }
  // The selection as it is now: the user may have changed it while the list was asked for.
  const previous = select.value || sessionStorage.getItem("wallet") || "";
  select.replaceChildren(
    ...names.map((name) => el("option", { value: name }, name || "(default)")),
  );
  if (names.includes(previous)) select.value = previous;
}

async function refreshOverview(): Promise<void> {
  try {
    const name = wallet();
    const balances = await rpc("getbalances", [], name) as {
      mine: { trusted: number; untrusted_pending: number; immature: number };
    };
    if (!stillSelected(name)) return;
    $("balance-trusted").textContent = btc(balances.mine.trusted);
    $("balance-pending").textContent = btc(balances.mine.untrusted_pending);
    $("balance-immature").textContent = btc(balances.mine.immature);
    const txs = await rpc("listtransactions", ["*", 10], name) as Tx[];
    if (!stillSelected(name)) return;
    $("recent-txs").replaceChildren(
      ...txs.reverse().map((tx) =>
        row([
          time(tx.time),
          tx.category,
          btc(tx.amount),
          String(tx.confirmations),
          tx.address ?? "",
        ])
      ),
    );
    showError("overview-error", null);
  } catch (error) {
    showError("overview-error", error);
  }
}

interface Tx {
  txid: string;
  time: number;
  category: string;
  amount: number;
  fee?: number;
  confirmations: number;
  address?: string;
}

async function refreshHistory(): Promise<void> {
  try {
    const name = wallet();
    const txs = await rpc("listtransactions", ["*", 100], name) as Tx[];
    if (!stillSelected(name)) return;
    $("history").replaceChildren(
      ...txs.reverse().map((tx) => {
        const line = row([
          time(tx.time),
          tx.category,
          btc(tx.amount),
          tx.fee === undefined ? "" : btc(tx.fee),
          String(tx.confirmations),
          el("span", { class: "mono" }, tx.txid),
        ], { class: "clickable" });
        line.addEventListener("click", () => void showTransaction(name, tx.txid));
        return line;
      }),
    );
    showError("history-error", null);
  } catch (error) {
    showError("history-error", error);
  }
}

async function showTransaction(name: string, txid: string): Promise<void> {
  const details = $("tx-details");
  try {
    const tx = await rpc("gettransaction", [txid], name);
    details.textContent = JSON.stringify(tx, null, 2);
    details.hidden = false;
  } catch (error) {
    showError("history-error", error);
  }
}

/** Amounts in BTC: positive, at most 8 decimals. */
const AMOUNT = /^(\d{1,8})(\.\d{1,8})?$/;

interface Payment {
  address: string;
  amount: string;
  feeRate: string;
  subtract: boolean;
  wallet: string;
}

let pending: Payment | null = null;

async function reviewSend(event: Event): Promise<void> {
  event.preventDefault();
  for (
    const id of ["send-address-error", "send-amount-error", "send-feerate-error", "send-error"]
  ) {
    showError(id, null);
  }
  $("send-result").textContent = "";
  const address = ($("send-address") as HTMLInputElement).value.trim();
  const amount = ($("send-amount") as HTMLInputElement).value.trim();
  const feeRate = ($("send-feerate") as HTMLInputElement).value.trim();
  let valid = true;
  if (!address) {
    $("send-address-error").textContent = "Enter the address to pay to";
    valid = false;
  } else {
    try {
      const check = await rpc("validateaddress", [address]) as { isvalid: boolean; error?: string };
      if (!check.isvalid) {
        $("send-address-error").textContent = `Invalid address: ${
          check.error ?? "not a regtest address"
        }`;
        valid = false;
      }
    } catch (error) {
      showError("send-address-error", error);
      valid = false;
    }
  }
  if (!AMOUNT.test(amount) || Number(amount) <= 0) {
    $("send-amount-error").textContent = "Amount: a positive number of BTC with at most 8 decimals";
    valid = false;
  }
  if (!/^\d+(\.\d{1,3})?$/.test(feeRate) || Number(feeRate) < 1) {
    $("send-feerate-error").textContent = "Fee rate: at least 1 sat/vB, at most 3 decimals";
    valid = false;
  }
  let name = "";
  try {
    name = wallet();
  } catch (error) {
    showError("send-error", error);
    valid = false;
  }
  if (!valid) return;
  pending = {
    address,
    amount,
    feeRate,
    subtract: ($("send-subtract") as HTMLInputElement).checked,
    wallet: name,
  };
  $("confirm-amount").textContent = `${amount} BTC`;
  $("confirm-address").textContent = address;
  $("confirm-feerate").textContent = feeRate;
  $("confirm-wallet").textContent = name || "(default)";
  $("send-confirm").hidden = false;
}

async function confirmSend(): Promise<void> {
  const payment = pending;
  if (payment === null) return;
  pending = null;
  $("send-confirm").hidden = true;
  try {
    const txid = await rpc("sendtoaddress", {
      address: payment.address,
      amount: Number(payment.amount),
      subtractfeefromamount: payment.subtract,
      fee_rate: Number(payment.feeRate),
    }, payment.wallet);
    $("send-result").textContent = `Sent: transaction ${txid}`;
    ($("send-form") as HTMLFormElement).reset();
  } catch (error) {
    showError("send-error", error);
  }
}

async function receive(event: Event): Promise<void> {
  event.preventDefault();
  showError("receive-error", null);
  try {
    const label = ($("receive-label") as HTMLInputElement).value;
    const type = ($("receive-type") as HTMLSelectElement).value;
    // "": the wallet's own default, as -addresstype sets it.
    const address = await rpc("getnewaddress", [label, type || null], wallet()) as string;
    $("receive-address").textContent = address;
    const qr = qrcode(0, "M");
    qr.addData(`bitcoin:${address}`);
    qr.make();
    ($("receive-qr") as HTMLImageElement).src = qr.createDataURL(6, 4);
    $("receive-result").hidden = false;
    $("copy-status").textContent = "";
  } catch (error) {
    showError("receive-error", error);
  }
}

async function walletAction(method: string, params: unknown[], selected?: string): Promise<void> {
  showError("wallets-error", null);
  $("wallets-result").textContent = "";
  try {
    const result = await rpc(method, params, selected);
    $("wallets-result").textContent = `${method}: ${
      result === null ? "done" : typeof result === "string" ? result : JSON.stringify(result)
    }`;
  } catch (error) {
    showError("wallets-error", error);
  }
  await refreshWalletList();
}

async function refreshWallets(): Promise<void> {
  await refreshWalletList();
}

// ---------------------------------------------------------------- console

const history: string[] = [];
let historyAt = 0;

/** Splits a console line into the method and its arguments, as bitcoin-qt reads them. */
function parseCommand(line: string): { method: string; params: unknown[] } {
  const words: string[] = [];
  const pattern = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (const match of line.matchAll(pattern)) {
    words.push(
      match[1] !== undefined ? JSON.stringify(JSON.parse(`"${match[1]}"`)) : match[2] ?? match[3],
    );
  }
  const [method, ...args] = words;
  return {
    method,
    params: args.map((arg) => {
      try {
        return JSON.parse(arg);
      } catch {
        return arg;
      }
    }),
  };
}

async function runConsole(event: Event): Promise<void> {
  event.preventDefault();
  const input = $("console-input") as HTMLInputElement;
  const line = input.value.trim();
  if (!line) return;
  history.push(line);
  historyAt = history.length;
  input.value = "";
  const output = $("console-output");
  output.append(el("div", { class: "command" }, `> ${line}`));
  let entry: HTMLElement;
  try {
    const { method, params } = parseCommand(line);
    const result = await rpc(method, params, ($("wallet") as HTMLSelectElement).value || undefined);
    entry = el(
      "pre",
      { class: "result" },
      typeof result === "string" ? result : JSON.stringify(result, null, 2),
    );
  } catch (error) {
    entry = el("pre", { class: "error" }, describe(error));
  }
  output.append(entry);
  output.scrollTop = output.scrollHeight;
}

function consoleKeys(event: KeyboardEvent): void {
  const input = event.target as HTMLInputElement;
  if (event.key === "ArrowUp" && historyAt > 0) input.value = history[--historyAt];
  else if (event.key === "ArrowDown" && historyAt < history.length) {
    input.value = history[++historyAt] ?? "";
  } else return;
  event.preventDefault();
}

// ---------------------------------------------------------------- components

interface ComponentInfo {
  name: string;
  parent: string;
  pid: number;
  state: string;
  startedAt: number;
  restarts: number;
  residentBytes: number;
  cpuSeconds: number;
  permissions: string[];
  limits: string[];
  audit: string[];
  lastExit: string;
}

function uptime(startedAt: number): string {
  if (!startedAt) return "";
  const seconds = Math.max(0, Math.round((Date.now() - startedAt) / 1000));
  return seconds < 120 ? `${seconds} s` : `${Math.round(seconds / 60)} min`;
}

function list(items: string[]): HTMLElement {
  return el("div", { class: "flags" }, ...items.map((item) => el("code", {}, item)));
}

async function control(action: "restart" | "stop", name: string): Promise<void> {
  showError("components-error", null);
  if (action === "stop" && !confirm(`Stop ${name}? It stays down until the launcher restarts.`)) {
    return;
  }
  try {
    const response = await fetch(`/api/components/${action}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name }),
    });
    const reply = await response.json() as { error?: string };
    if (reply.error) throw new Error(`${action} ${name}: ${reply.error}`);
  } catch (error) {
    showError("components-error", error);
  }
}

function renderComponents(components: ComponentInfo[]): void {
  $("components").replaceChildren(...components.map((c) => {
    const buttons = el("td");
    if (c.parent === "launcher") {
      for (const action of ["restart", "stop"] as const) {
        const button = el("button", { type: "button", "data-action": action }, action);
        button.disabled = c.state !== "running";
        button.addEventListener("click", () => void control(action, c.name));
        buttons.append(button, " ");
      }
    }
    const line = el(
      "tr",
      { "data-component": c.name },
      el("td", {}, c.parent ? `└ ${c.name}` : c.name),
      el("td", {}, c.pid ? String(c.pid) : ""),
      el("td", { class: `state-${c.state}`, title: c.lastExit }, c.state),
      el("td", {}, uptime(c.startedAt)),
      el("td", {}, String(c.restarts)),
      el("td", {}, c.residentBytes ? `${(c.residentBytes / 2 ** 20).toFixed(0)} MiB` : ""),
      el("td", {}, c.cpuSeconds ? `${c.cpuSeconds.toFixed(2)} s` : ""),
      el("td", { class: "permissions" }, list(c.permissions)),
      el("td", {}, list(c.limits)),
      el("td", {}, c.audit.length === 0 ? "nothing outside its grants" : list(c.audit)),
      buttons,
    );
    return line;
  }));
}

// ---------------------------------------------------------------- IPC

interface IpcCall {
  at: number;
  caller: string;
  callee: string;
  method: string;
  durationMs: number;
  ok: boolean;
}

const MAX_CALLS = 5000;
let calls: IpcCall[] = [];

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

function renderCalls(): void {
  const filter = ($("ipc-filter") as HTMLInputElement).value.trim().toLowerCase();
  const shown = filter
    ? calls.filter((c) => `${c.caller} ${c.callee} ${c.method}`.toLowerCase().includes(filter))
    : calls;
  const byMethod = new Map<string, number[]>();
  for (const call of shown) {
    const key = `${call.caller} → ${call.callee} ${call.method}`;
    const durations = byMethod.get(key) ?? [];
    durations.push(call.durationMs);
    byMethod.set(key, durations);
  }
  $("ipc-stats").replaceChildren(
    ...[...byMethod].sort((a, b) => b[1].length - a[1].length).map(([method, durations]) => {
      const sorted = durations.sort((a, b) => a - b);
      return row([
        method,
        String(sorted.length),
        ...[0.5, 0.9, 0.99].map((p) => percentile(sorted, p).toFixed(1)),
        sorted[sorted.length - 1].toFixed(1),
      ]);
    }),
  );
  $("ipc-calls").replaceChildren(
    ...shown.slice(-100).reverse().map((c) =>
      row([
        new Date(c.at).toLocaleTimeString(),
        c.caller,
        c.callee,
        c.ok ? c.method : `${c.method} (exception)`,
        c.durationMs.toFixed(1),
      ])
    ),
  );
}

let callsTimer: ReturnType<typeof setTimeout> | undefined;

function addCalls(batch: IpcCall[]): void {
  calls.push(...batch);
  if (calls.length > MAX_CALLS) calls = calls.slice(-MAX_CALLS);
  clearTimeout(callsTimer);
  callsTimer = setTimeout(renderCalls, 100);
}

// ---------------------------------------------------------------- events

interface Hello {
  tip: Tip;
  supervision: boolean;
  components: ComponentInfo[];
  calls: IpcCall[];
}

/** The running components' names and pids, as last shown. */
let runningComponents = "";
/** Until when component updates read the wallet list again. */
let rereadWalletsUntil = 0;
/** How long after a component (re)starts its wallets are looked for. */
const REREAD_WALLETS_MS = 60_000;

function connectEvents(): void {
  const events = new EventSource("/api/events");
  const status = $("connection");
  events.addEventListener("hello", (event) => {
    const hello = JSON.parse((event as MessageEvent).data) as Hello;
    status.textContent = "connected";
    status.classList.remove("down");
    renderTip(hello.tip);
    $("components-note").textContent = hello.supervision
      ? ""
      : "This gui was started without the launcher's supervision: no component figures.";
    renderComponents(hello.components);
    runningComponents = hello.components.map((c) => `${c.name}:${c.pid}`).join();
    rereadWalletsUntil = Date.now() + REREAD_WALLETS_MS;
    calls = [];
    addCalls(hello.calls);
    // After a restart of a component, everything shown is read again.
    void refreshWalletList().then(() => refreshOverview());
  });
  events.addEventListener("tip", (event) => {
    renderTip(JSON.parse((event as MessageEvent).data));
    if ($("page-overview").classList.contains("active")) void refreshOverview();
    if ($("page-transactions").classList.contains("active")) void refreshHistory();
  });
  events.addEventListener("components", (event) => {
    const components = JSON.parse((event as MessageEvent).data) as ComponentInfo[];
    renderComponents(components);
    // A component (re)started: its wallets come back a moment after its process does, so the
    // list is read again with each update for a while.
    const running = components.map((c) => `${c.name}:${c.pid}`).join();
    if (running !== runningComponents) {
      runningComponents = running;
      rereadWalletsUntil = Date.now() + REREAD_WALLETS_MS;
    }
    if (Date.now() < rereadWalletsUntil) void refreshWalletList().then(() => refreshOverview());
  });
  events.addEventListener("ipc", (event) => addCalls(JSON.parse((event as MessageEvent).data)));
  events.addEventListener("error", () => {
    status.textContent = "disconnected: reconnecting…";
    status.classList.add("down");
  });
}

// ---------------------------------------------------------------- wiring

function main(): void {
  addEventListener("hashchange", showPage);
  showPage();
  $("mine-form").addEventListener("submit", (event) => void mine(event));
  $("send-form").addEventListener("submit", (event) => void reviewSend(event));
  $("confirm-send").addEventListener("click", () => void confirmSend());
  $("cancel-send").addEventListener("click", () => {
    pending = null;
    $("send-confirm").hidden = true;
  });
  $("receive-form").addEventListener("submit", (event) => void receive(event));
  $("copy-address").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText($("receive-address").textContent ?? "");
      $("copy-status").textContent = "copied";
    } catch (error) {
      $("copy-status").textContent = `not copied: ${describe(error)}`;
    }
  });
  $("wallet").addEventListener("change", () => {
    sessionStorage.setItem("wallet", ($("wallet") as HTMLSelectElement).value);
    void refreshOverview();
  });
  $("create-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const name = ($("create-name") as HTMLInputElement).value.trim();
    const passphrase = ($("create-passphrase") as HTMLInputElement).value;
    if (!name) {
      $("wallets-error").textContent = "New wallet: enter a name";
      return;
    }
    // As bitcoin-qt: wallets made here are loaded again when the wallet process starts.
    void walletAction("createwallet", [name, false, false, passphrase || null, false, true, true]);
  });
  $("load-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const method = ((event as SubmitEvent).submitter as HTMLButtonElement).dataset.action!;
    const name = ($("load-name") as HTMLInputElement).value.trim();
    if (!name) {
      $("wallets-error").textContent = "Wallet: enter the name of the wallet to load or unload";
      return;
    }
    void walletAction(method, [name, method === "loadwallet"]);
  });
  $("encrypt-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const passphrase = ($("encrypt-passphrase") as HTMLInputElement).value;
    if (!passphrase) {
      $("wallets-error").textContent = "Encrypt: enter a passphrase";
      return;
    }
    try {
      void walletAction("encryptwallet", [passphrase], wallet());
    } catch (error) {
      showError("wallets-error", error);
    }
  });
  $("unlock-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const passphrase = ($("unlock-passphrase") as HTMLInputElement).value;
    const seconds = Number(($("unlock-seconds") as HTMLInputElement).value);
    try {
      void walletAction("walletpassphrase", [passphrase, seconds], wallet());
    } catch (error) {
      showError("wallets-error", error);
    }
  });
  $("lock-button").addEventListener("click", () => {
    try {
      void walletAction("walletlock", [], wallet());
    } catch (error) {
      showError("wallets-error", error);
    }
  });
  $("console-form").addEventListener("submit", (event) => void runConsole(event));
  $("console-input").addEventListener("keydown", (event) => consoleKeys(event as KeyboardEvent));
  $("ipc-filter").addEventListener("input", renderCalls);
  connectEvents();
}

main();
