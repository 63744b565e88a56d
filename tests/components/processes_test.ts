/**
 * The components as processes: the node started on its own with grants for
 * its blocks folder and socket only, driven through `connect`; the wallet
 * spawned with its manifest's permissions and handed the node's Chain;
 * entry point errors; and `-lifeline`. (The gui's processes are tested in
 * `gui/`.)
 *
 * @module
 */
import { assert, assertEquals, assertRejects } from "../assert.ts";
import { connect, denoCommand, IpcLog, RpcError, spawn } from "../../mod.ts";
import { NodeInit } from "../../schemas/gen/node.mp.ts";
import { WalletInit } from "../../schemas/gen/wallet.mp.ts";
import { SUBSIDY } from "./toy_node.ts";
import { FileWalletInit } from "./toy_wallet.ts";
import { type Peer, spawnPeer, tempDir } from "../helpers.ts";

const components = new URL("../../components/", import.meta.url);
/** The toy node (`toy_node_main.ts`) stands in for the node the toy wallet was written for. */
const entry = (name: string) =>
  name === "node" || name === "wallet"
    ? new URL(`./toy_${name}_main.ts`, import.meta.url).pathname
    : new URL(`${name}/main.ts`, components).pathname;
const quiet = new IpcLog({ level: "off" });

/** `deno run` flags granting `paths` and the socket at `socket`, nothing else. */
function grants(paths: string[], socket: string): string[] {
  return [
    `--allow-read=${[...paths, socket].join(",")}`,
    `--allow-write=${[...paths, socket].join(",")}`,
    `--allow-net=unix:${socket}`,
  ];
}

/** Starts the node on `<datadir>/node.sock`, allowed only that and `<datadir>/blocks`. */
async function startNode(datadir: string): Promise<Peer & { socket: string }> {
  const socket = `${datadir}/node.sock`;
  const peer = spawnPeer(Deno.execPath(), [
    "run",
    "--no-prompt",
    ...grants([`${datadir}/blocks`], socket),
    entry("node"),
    `-datadir=${datadir}`,
    `-ipcbind=unix:${socket}`,
  ]);
  await Promise.race([
    peer.line(/^READY$/),
    peer.child.status.then((status) => {
      throw new Error(`the node exited with code ${status.code} before READY`);
    }),
  ]);
  return Object.assign(peer, { socket });
}

Deno.test("node process: the Chain through connect, a wallet here on it, blocks kept on restart", async () => {
  using temp = tempDir();
  const datadir = temp.path;
  let hash: Uint8Array;
  {
    await using node = await startNode(datadir);
    await using init = await connect(NodeInit, `unix:${node.socket}`, { log: quiet });
    const chain = (await init.makeChain())!;
    assertEquals(await chain.getHeight(), -1);
    assertEquals(await chain.generateToAddress(2, "tc1miner"), 1);
    hash = await chain.getBlockHash(1);
    assertEquals(hash.length, 32);
    await assertRejects(() => chain.getBlockHash(2), Error, "Block height 2 out of range");
    await assertRejects(() => chain.generateToAddress(1, "a b"), Error, "Invalid address");
    // A wallet in this process reads the remote chain through the proxy (and takes it over).
    using walletDir = tempDir();
    using loader = new FileWalletInit(walletDir.path).makeWalletLoader(chain);
    using wallet = loader.createWallet("alice");
    await chain.generateToAddress(3, wallet.getNewAddress());
    assertEquals(await wallet.getBalance(), 3n * SUBSIDY);
  }
  await using node = await startNode(datadir);
  await using init = await connect(NodeInit, `unix:${node.socket}`, { log: quiet });
  await using chain = (await init.makeChain())!;
  assertEquals(await chain.getHeight(), 4);
  assertEquals(await chain.getBlockHash(1), hash);
});

Deno.test("two processes: the wallet spawned with its manifest's grants, given the node's Chain", async () => {
  using temp = tempDir();
  const datadir = temp.path;
  await using node = await startNode(datadir);
  await using nodeInit = await connect(NodeInit, `unix:${node.socket}`, { log: quiet });
  await using chain = (await nodeInit.makeChain())!;
  await using wallet = await spawn(
    WalletInit,
    denoCommand(entry("wallet"), {
      permissions: [`--allow-read=${datadir}/wallets`, `--allow-write=${datadir}/wallets`],
      args: [`-datadir=${datadir}`],
    }),
    { log: quiet },
  );
  await using loader = (await wallet.init.makeWalletLoader(chain))!;
  {
    await using alice = (await loader.createWallet("alice"))!;
    await chain.generateToAddress(2, await alice.getNewAddress());
    // The wallet process reads the node's chain through the capability, via this process.
    assertEquals(await alice.getBalance(), 2n * SUBSIDY);
  }
  await loader.createWallet("bob");
  await assertRejects(() => loader.createWallet("../../etc"), Error, "Invalid wallet name");
  assertEquals(
    [...Deno.readDirSync(`${datadir}/wallets`)].map((e) => e.name).sort(),
    ["alice.json", "bob.json"],
  );
  assertEquals(await chain.getHeight(), 1);
  assertEquals(await loader.listWallets(), ["alice", "bob"]);
});

/** Runs a component's entry point to its end; its exit code and stderr. */
async function runEntry(name: string, args: string[]): Promise<{ code: number; stderr: string }> {
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "--allow-read", "--allow-write", entry(name), ...args],
    stdout: "null",
    stderr: "piped",
  }).output();
  return { code, stderr: new TextDecoder().decode(stderr) };
}

Deno.test("entry points: missing -datadir, nothing to serve and a corrupt chain end with a message", async () => {
  using temp = tempDir();
  const datadir = temp.path;
  assertEquals(await runEntry("wallet", ["-ipcbind=unix"]), {
    code: 1,
    stderr: "wallet: missing -datadir=<absolute path>\n",
  });
  assertEquals(await runEntry("gui", ["-datadir=relative", "-ipcbind=unix"]), {
    code: 1,
    stderr: "gui: -datadir must be an absolute path, got 'relative'\n",
  });
  assertEquals(await runEntry("node", [`-datadir=${datadir}`]), {
    code: 1,
    stderr: "node: nothing to serve: give -ipcbind=<address>, or spawn it (-ipcfd)\n",
  });
  Deno.mkdirSync(`${datadir}/blocks`);
  Deno.writeTextFileSync(`${datadir}/blocks/chain.json`, "{");
  const corrupt = await runEntry("node", [`-datadir=${datadir}`, "-ipcbind=unix"]);
  assertEquals(corrupt.code, 1);
  assert(corrupt.stderr.startsWith(`node: ${datadir}/blocks/chain.json: not JSON`), corrupt.stderr);
});

Deno.test("-lifeline: clients need a token announced on stdin; closing stdin ends the node", async () => {
  using temp = tempDir();
  const datadir = temp.path;
  const socket = `${datadir}/node.sock`;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      ...grants([`${datadir}/blocks`], socket),
      entry("node"),
      `-datadir=${datadir}`,
      `-ipcbind=unix:${socket}`,
      "-lifeline",
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const stdout = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  assertEquals((await stdout.read()).value, "READY\n");
  const token = crypto.getRandomValues(new Uint8Array(32));
  const hex = Array.from(token, (b) => b.toString(16).padStart(2, "0")).join("");
  const control = child.stdin.getWriter();
  await control.write(new TextEncoder().encode(`accept ${hex}\n`));
  {
    await using stranger = await connect(NodeInit, `unix:${socket}`, { log: quiet });
    const error = await assertRejects(() => stranger.makeChain(), RpcError);
    assertEquals(error.type, "disconnected");
  }
  {
    await using init = await connect(NodeInit, `unix:${socket}`, { token, log: quiet });
    await using chain = (await init.makeChain())!;
    assertEquals(await chain.getHeight(), -1);
  }
  await control.close();
  assertEquals((await child.status).code, 0);
  await stdout.cancel();
});
