/**
 * The node's chain in process: heights, hashes computed independently,
 * coinbases, argument checks, and the blocks surviving a reopen.
 *
 * @module
 */
import { assert, assertEquals, assertThrows } from "../assert.ts";
import {
  blockHash,
  MAX_GENERATE,
  nodeInit,
  SUBSIDY,
  ToyChain,
} from "../../components/node/chain.ts";

/** SHA-256(previous ‖ Int32LE(height) ‖ UTF-8(address)), computed apart from the chain's code. */
async function expectedHash(previous: Uint8Array, height: number, address: string) {
  const address8 = new TextEncoder().encode(address);
  const input = new Uint8Array(32 + 4 + address8.length);
  input.set(previous);
  new DataView(input.buffer).setInt32(32, height, true);
  input.set(address8, 36);
  return new Uint8Array(await crypto.subtle.digest("SHA-256", input));
}

Deno.test("chain: starts empty, grows by generateToAddress with chained SHA-256 hashes", async () => {
  const chain = ToyChain.open(Deno.makeTempDirSync());
  assertEquals(chain.getHeight(), -1);
  assertEquals(chain.generateToAddress(2, "tc1alice"), 1);
  assertEquals(chain.generateToAddress(1, "tc1bob"), 2);
  let previous: Uint8Array = new Uint8Array(32);
  for (const [height, address] of ["tc1alice", "tc1alice", "tc1bob"].entries()) {
    const hash = chain.getBlockHash(height);
    assertEquals(hash, await expectedHash(previous, height, address));
    assertEquals(hash, blockHash(previous, height, address));
    previous = hash;
  }
});

Deno.test("chain: getBlockHash out of range is an error, and hashes are copies", () => {
  const chain = ToyChain.open(Deno.makeTempDirSync());
  assertThrows(() => chain.getBlockHash(0), Error, "Block height 0 out of range (tip is -1)");
  chain.generateToAddress(1, "tc1alice");
  assertThrows(() => chain.getBlockHash(1), Error, "out of range");
  assertThrows(() => chain.getBlockHash(-1), Error, "out of range");
  chain.getBlockHash(0).fill(0);
  assert(chain.getBlockHash(0).some((b) => b !== 0));
});

Deno.test("chain: getCoinbases lists the blocks paying the given addresses", () => {
  const chain = ToyChain.open(Deno.makeTempDirSync());
  chain.generateToAddress(1, "tc1alice");
  chain.generateToAddress(2, "tc1bob");
  chain.generateToAddress(1, "tc1alice");
  assertEquals(chain.getCoinbases(["tc1alice", "tc1carol"]), [
    { height: 0, address: "tc1alice", amount: SUBSIDY },
    { height: 3, address: "tc1alice", amount: SUBSIDY },
  ]);
  assertEquals(chain.getCoinbases([]), []);
  assertEquals(SUBSIDY, 50n * 100_000_000n);
});

Deno.test("chain: bad counts and addresses are refused and change nothing", () => {
  const chain = ToyChain.open(Deno.makeTempDirSync());
  for (const count of [0, -1, MAX_GENERATE + 1]) {
    assertThrows(() => chain.generateToAddress(count, "tc1alice"), Error, "Block count");
  }
  for (const address of ["", "tc1 alice", "tc1/../x", "a".repeat(91), "<b>"]) {
    assertThrows(() => chain.generateToAddress(1, address), Error, "Invalid address");
  }
  assertEquals(chain.getHeight(), -1);
});

Deno.test("chain: blocks persist in blocks/chain.json and are reloaded", () => {
  const datadir = Deno.makeTempDirSync();
  const first = ToyChain.open(datadir);
  first.generateToAddress(3, "tc1alice");
  assertEquals([...Deno.readDirSync(`${datadir}/blocks`)].map((e) => e.name), ["chain.json"]);
  const again = ToyChain.open(datadir);
  assertEquals(again.getHeight(), 2);
  assertEquals(again.getBlockHash(2), first.getBlockHash(2));
  assertEquals(again.generateToAddress(1, "tc1bob"), 3);
  assertEquals(ToyChain.open(datadir).getBlockHash(3), again.getBlockHash(3));
});

Deno.test("chain: a corrupt chain file is refused, naming it and the block", () => {
  const datadir = Deno.makeTempDirSync();
  ToyChain.open(datadir).generateToAddress(3, "tc1alice");
  const path = `${datadir}/blocks/chain.json`;
  const saved = JSON.parse(Deno.readTextFileSync(path));
  saved.blocks[1].address = "tc1mallory";
  Deno.writeTextFileSync(path, JSON.stringify(saved));
  assertThrows(() => ToyChain.open(datadir), Error, `${path}: block 1 is corrupt`);
  Deno.writeTextFileSync(path, "{");
  assertThrows(() => ToyChain.open(datadir), Error, `${path}: not JSON`);
  Deno.writeTextFileSync(path, "[]");
  assertThrows(() => ToyChain.open(datadir), Error, "not a version 1 chain file");
});

Deno.test("nodeInit: every makeChain hands out the node's chain", () => {
  const chain = ToyChain.open(Deno.makeTempDirSync());
  const init = nodeInit(chain);
  assert(init.makeChain() === chain && init.makeChain() === chain);
});
