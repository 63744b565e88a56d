/**
 * The wallet in process, on a chain in process: creating, loading and
 * listing wallets, balances read from the chain, name checks, persistence
 * and the chain reference's lifetime; then the same objects behind sockets,
 * with the chain coming from another connection.
 *
 * @module
 */
import { assert, assertEquals, assertRejects, assertThrows } from "../assert.ts";
import { connect, IpcLog, listen, release } from "../../mod.ts";
import { NodeInit } from "../../schemas/gen/node.mp.ts";
import { WalletInit } from "../../schemas/gen/wallet.mp.ts";
import { nodeInit, SUBSIDY, ToyChain } from "./toy_node.ts";
import { FileWalletInit } from "../../components/wallet/wallet.ts";

/** A data directory with a chain and a wallet loader on it. */
function setup(datadir = Deno.makeTempDirSync()) {
  const chain = ToyChain.open(datadir);
  return { datadir, chain, loader: new FileWalletInit(datadir).makeWalletLoader(chain) };
}

Deno.test("wallet: create, load and list", async () => {
  const { datadir, loader } = setup();
  assertEquals(await loader.listWallets(), []);
  const bob = (await loader.createWallet("bob"))!;
  await loader.createWallet("alice");
  assertEquals(await bob.getName(), "bob");
  assertEquals(await loader.listWallets(), ["alice", "bob"]);
  assertEquals(
    [...Deno.readDirSync(`${datadir}/wallets`)].map((e) => e.name).sort(),
    ["alice.json", "bob.json"],
  );
  const address = await bob.getNewAddress();
  assert(/^tc1[0-9a-f]{40}$/.test(address), address);
  const again = (await loader.loadWallet("bob"))!;
  assertEquals(await again.listAddresses(), [address]);
  await assertRejects(() => loader.createWallet("bob"), Error, 'Wallet "bob" already exists');
  await assertRejects(() => loader.loadWallet("carol"), Error, 'Wallet "carol" not found');
});

Deno.test("wallet: the balance is the sum of the chain's coinbases to its addresses", async () => {
  const { chain, loader } = setup();
  const alice = (await loader.createWallet("alice"))!;
  const bob = (await loader.createWallet("bob"))!;
  assertEquals(await alice.getBalance(), 0n);
  chain.generateToAddress(2, await alice.getNewAddress());
  chain.generateToAddress(1, await alice.getNewAddress());
  chain.generateToAddress(5, await bob.getNewAddress());
  assertEquals(await alice.getBalance(), 3n * SUBSIDY);
  assertEquals(await bob.getBalance(), 5n * SUBSIDY);
  assertEquals((await alice.listAddresses()).length, 2);
});

Deno.test("wallet: bad names are refused and create nothing", async () => {
  const { datadir, loader } = setup();
  const bad = ["", "../escape", "a/b", ".hidden", "a.json", "a b", "-x", "x".repeat(65), "é"];
  for (const name of bad) {
    await assertRejects(() => loader.createWallet(name), Error, "Invalid wallet name");
    await assertRejects(() => loader.loadWallet(name), Error, "Invalid wallet name");
  }
  assertEquals([...Deno.readDirSync(datadir)].map((e) => e.name).sort(), ["blocks", "wallets"]);
  assertEquals([...Deno.readDirSync(`${datadir}/wallets`)], []);
  await loader.createWallet("x".repeat(64));
  await loader.createWallet("Alice_2-b");
});

Deno.test("wallet: wallets and their addresses persist across a restart", async () => {
  const first = setup();
  const wallet = (await first.loader.createWallet("alice"))!;
  const addresses = [await wallet.getNewAddress(), await wallet.getNewAddress()];
  first.chain.generateToAddress(1, addresses[1]);
  Deno.writeTextFileSync(`${first.datadir}/wallets/notes.txt`, "not a wallet");
  const second = setup(first.datadir);
  assertEquals(await second.loader.listWallets(), ["alice"]);
  const reloaded = (await second.loader.loadWallet("alice"))!;
  assertEquals(await reloaded.listAddresses(), addresses);
  assertEquals(await reloaded.getBalance(), SUBSIDY);
});

Deno.test("wallet: a corrupt wallet file is refused, naming it", async () => {
  const { datadir, loader } = setup();
  Deno.writeTextFileSync(`${datadir}/wallets/alice.json`, '{"version":1,"name":"bob"}');
  await assertRejects(() => loader.loadWallet("alice"), Error, "alice.json: not a version 1");
});

Deno.test("wallet: the chain is released with the loader and the last wallet", async () => {
  let released = 0;
  const chain = Object.assign(ToyChain.open(Deno.makeTempDirSync()), {
    [Symbol.dispose]: () => released++,
  });
  const loader = new FileWalletInit(Deno.makeTempDirSync()).makeWalletLoader(chain);
  const wallet = loader.createWallet("alice");
  loader[Symbol.dispose]();
  loader[Symbol.dispose]();
  assertEquals(released, 0);
  chain.generateToAddress(1, await wallet.getNewAddress());
  assertEquals(await wallet.getBalance(), SUBSIDY);
  wallet[Symbol.dispose]();
  // The loader's reference went with its last wallet; the caller's is the last.
  assertEquals(released, 0);
  release(chain);
  assertEquals(released, 1);
});

Deno.test("wallet: makeWalletLoader needs a chain", () => {
  assertThrows(
    () => new FileWalletInit(Deno.makeTempDirSync()).makeWalletLoader(null),
    Error,
    "a Chain is required",
  );
});

Deno.test("wallet over a socket, reading a chain that comes from another connection", async () => {
  const datadir = Deno.makeTempDirSync();
  const chain = ToyChain.open(datadir);
  const log = new IpcLog({ level: "off" });
  await using _node = listen(NodeInit, "unix:node.sock", nodeInit(chain), { datadir, log });
  await using _wallet = listen(WalletInit, "unix:wallet.sock", new FileWalletInit(datadir), {
    datadir,
    log,
  });
  await using node = await connect(NodeInit, "unix:node.sock", { datadir });
  await using wallets = await connect(WalletInit, "unix:wallet.sock", { datadir });
  await using remoteChain = (await node.makeChain())!;
  {
    // The wallet's calls on the chain cross both connections, on threads of each.
    await using loader = (await wallets.makeWalletLoader(remoteChain))!;
    await using alice = (await loader.createWallet("alice"))!;
    await remoteChain.generateToAddress(2, await alice.getNewAddress());
    assertEquals(await alice.getBalance(), 2n * SUBSIDY);
    await assertRejects(() => loader.loadWallet("../x"), Error, "Invalid wallet name");
  }
  // Releasing the loader and the wallet left this side's chain proxy working.
  assertEquals(await remoteChain.getHeight(), 1);
});
