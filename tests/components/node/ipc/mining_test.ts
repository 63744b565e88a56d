/**
 * Bitcoin Core v30.0's Mining interface served by the node, driven through
 * our generated proxies over a real UNIX socket against a real chain and
 * mempool: a pool-style client mines blocks (its own coinbase, the
 * template's merkle path, a ground nonce), and every method is checked in
 * its edge cases — refusals, waits that wake or time out, a disconnect in
 * the middle of a wait, a node that stops, foreign thread handles.
 *
 * @module
 */
import * as capnp from "capnp-es";
import { assert, assertEquals, assertRejects } from "../../../assert.ts";
import { waitFor } from "../../../helpers.ts";
import { Capability } from "../../../../runtime/rpc/capability.ts";
import { RpcError } from "../../../../runtime/rpc/errors.ts";
import { capabilityOf } from "../../../../runtime/proxy/ownership.ts";
import { serverOf } from "../../../../runtime/proxy/bridge.ts";
import { Strand } from "../../../../runtime/proxy/strand.ts";
import { structClass } from "../../../../runtime/proxy/codec.ts";
import {
  type Block,
  blockHash,
  blockMerkleRoot,
  blockSubsidy,
  checkProofOfWork,
  decodeBlock,
  decodeTx,
  encodeBlock,
  encodeHeader,
  generateBlock,
  hashToHex,
  MAX_MONEY,
  POW_LIMIT,
  txid,
} from "../../../../components/node/chain/mod.ts";
import {
  initialBlockDownload,
  MAX_LIVE_TEMPLATES,
  MAX_TIP_AGE,
  MINING_NEXT_UNSUPPORTED,
  RPC_UNAVAILABLE,
} from "../../../../components/node/ipc/mod.ts";
import { Mining } from "../../../../schemas/gen/ipc/mining.mp.ts";
import { Context, Thread } from "../../../../runtime/schema/gen/mp/proxy.mp.ts";
import { spend } from "../mempool/mempool_helpers.ts";
import { openTempChain } from "../chain/chain_helpers.ts";
import { CREATE_OPTIONS, createTemplate, serveNode, solveTemplate } from "./ipc_helpers.ts";

const hex = (bytes: Uint8Array) => hashToHex(bytes);

Deno.test("mining: a client of generated proxies mines a block with its own coinbase", async () => {
  await using node = await serveNode();
  const { fixture } = node;
  const client = await node.connect();
  await using mining = (await client.makeMining())!;
  assertEquals(await mining.isTestChain(), true);
  assertEquals(await mining.isInitialBlockDownload(), false);
  const tip = (await mining.getTip())!;
  assertEquals(tip.height, fixture.chain.height);
  assertEquals(hex(tip.hash), hex(fixture.chain.tip.hash));

  const payment = spend(fixture.coins[0], 5000n);
  assert(fixture.mempool.accept(payment).accepted);
  await using template = await createTemplate(mining);

  // What the template holds, as v30.0 builds it.
  const header = await template.getBlockHeader();
  assertEquals(header.length, 80);
  const block = decodeBlock(await template.getBlock());
  assertEquals(hex(encodeHeader(block.header)), hex(header));
  assertEquals(hex(block.header.prevHash), hex(fixture.chain.tip.hash));
  assertEquals(block.txs.length, 2);
  assertEquals(hex(txid(block.txs[1])), hex(txid(payment)));
  assertEquals(await template.getTxFees(), [5000n]);
  assertEquals((await template.getTxSigops()).length, 1);
  const coinbase = decodeTx(await template.getCoinbaseTx());
  assertEquals(hex(txid(coinbase)), hex(txid(block.txs[0])));
  assertEquals(coinbase.outputs[0].script, Uint8Array.of(0x51), "OP_TRUE placeholder");
  assertEquals(coinbase.outputs[0].amount, blockSubsidy(tip.height + 1) + 5000n);
  assertEquals(coinbase.inputs[0].sequence, 0xfffffffe);
  assertEquals(coinbase.lockTime, tip.height);
  assertEquals(await template.getWitnessCommitmentIndex(), 1);
  assertEquals(await template.getCoinbaseCommitment(), coinbase.outputs[1].script);
  assertEquals((await template.getCoinbaseMerklePath()).map(hex), [hex(txid(payment))]);

  const solution = await solveTemplate(template, tip.height + 1, fixture.key.wpkh);
  assertEquals(
    await template.submitSolution(
      solution.version,
      solution.timestamp,
      solution.nonce,
      solution.coinbase,
    ),
    true,
  );
  assertEquals(fixture.chain.height, tip.height + 1);
  assertEquals(hex(fixture.chain.tip.hash), hex(solution.hash));
  const stored = fixture.chain.readBlock(solution.hash)!;
  assertEquals(hex(txid(stored.txs[0])), hex(txid(solution.coinbaseTx)));
  assertEquals(fixture.mempool.size, 0, "the mined transaction left the mempool");
  // As v30.0: the template's block is now the submitted one.
  assertEquals(hex(await template.getBlock()), hex(encodeBlock(stored)));
  // Submitting the same block again is accepted as a duplicate, as v30.0's ProcessNewBlock says.
  assertEquals(
    await template.submitSolution(
      solution.version,
      solution.timestamp,
      solution.nonce,
      solution.coinbase,
    ),
    true,
  );
  assertEquals(hex((await mining.getTip())!.hash), hex(solution.hash));
});

Deno.test("mining: wire-zero options mean what v30.0 makes of them", async () => {
  await using node = await serveNode();
  const client = await node.connect();
  await using mining = (await client.makeMining())!;
  assert(node.fixture.mempool.accept(spend(node.fixture.coins[0], 5000n)).accepted);
  // useMempool false: coinbase only; reserved weight 0 is clamped to 2000.
  await using zero = (await mining.createNewBlock({
    useMempool: false,
    blockReservedWeight: 0n,
    coinbaseOutputMaxAdditionalSigops: 0n,
  }))!;
  assertEquals(decodeBlock(await zero.getBlock()).txs.length, 1);
  assertEquals(await zero.getTxFees(), []);
  assertEquals(await zero.getCoinbaseMerklePath(), []);
  // The whole block reserved: nothing fits beside the coinbase.
  await using full = (await mining.createNewBlock({
    useMempool: true,
    blockReservedWeight: 10_000_000n,
    coinbaseOutputMaxAdditionalSigops: 1n << 63n,
  }))!;
  assertEquals(decodeBlock(await full.getBlock()).txs.length, 1);
});

Deno.test("mining: refused solutions return false and leave the tip", async () => {
  await using node = await serveNode();
  const { fixture } = node;
  const client = await node.connect();
  await using mining = (await client.makeMining())!;
  await using template = await createTemplate(mining);
  const height = fixture.chain.height + 1;
  const before = hex(fixture.chain.tip.hash);
  const submit = (s: Awaited<ReturnType<typeof solveTemplate>>) =>
    template.submitSolution(s.version, s.timestamp, s.nonce, s.coinbase);

  assertEquals(
    await submit(await solveTemplate(template, height, fixture.key.wpkh, { extraValue: 1n })),
    false,
  );
  assertEquals(
    await submit(await solveTemplate(template, height, fixture.key.wpkh, { failPow: true })),
    false,
  );
  assertEquals(
    await submit(await solveTemplate(template, height, fixture.key.wpkh, { noWitness: true })),
    false,
  );
  assertEquals(hex(fixture.chain.tip.hash), before);
  assertEquals(node.logged.length, 3);
  assert(node.logged[0].endsWith("rejected: bad-cb-amount"), node.logged[0]);
  assert(node.logged[1].endsWith("rejected: high-hash"), node.logged[1]);
  assert(node.logged[2].endsWith("rejected: bad-witness-nonce-size"), node.logged[2]);

  await assertRejects(
    () => template.submitSolution(0x20000000, 0, 0, new Uint8Array(0)),
    RpcError,
    "submitSolution: the coinbase is empty",
  );
  await assertRejects(
    () => template.submitSolution(0x20000000, 0, 0, Uint8Array.of(1, 2, 3)),
    RpcError,
    "submitSolution: the coinbase does not deserialize",
  );
  // The template still works after the refusals.
  const good = await solveTemplate(template, height, fixture.key.wpkh);
  assertEquals(await submit(good), true);
  assertEquals(hex(fixture.chain.tip.hash), hex(good.hash));
});

Deno.test("mining: checkBlock gives Core's reasons", async () => {
  await using node = await serveNode();
  const { fixture } = node;
  const client = await node.connect();
  await using mining = (await client.makeMining())!;
  await using template = await createTemplate(mining);
  const block = decodeBlock(await template.getBlock());
  const check = (b: Block, checkPow: boolean, checkMerkleRoot = true) =>
    mining.checkBlock(encodeBlock(b), { checkPow, checkMerkleRoot });

  assertEquals(await check(block, false), { reason: "", debug: "", result: true });
  // A nonce whose hash misses the target, for a certain answer.
  while (checkProofOfWork(blockHash(block.header), block.header.bits, POW_LIMIT)) {
    block.header.nonce++;
  }
  assertEquals(await check(block, true), {
    reason: "high-hash",
    debug: "proof of work failed",
    result: false,
  });
  const badRoot: Block = { ...block, header: { ...block.header, merkleRoot: new Uint8Array(32) } };
  assertEquals((await check(badRoot, false)).reason, "bad-txnmrklroot");
  assertEquals((await check(badRoot, false, false)).result, true, "merkle root not checked");
  // A coinbase paying one satoshi more than the block earns.
  const overpaid = structuredClone(block);
  overpaid.txs[0].outputs[0].amount += 1n;
  overpaid.header.merkleRoot = blockMerkleRoot(overpaid).root;
  assertEquals((await check(overpaid, false)).reason, "bad-cb-amount");
  // A block on an older parent.
  fixture.mine();
  assertEquals((await check(block, false)).reason, "inconclusive-not-best-prevblk");
  await assertRejects(
    () => mining.checkBlock(Uint8Array.of(0, 1), { checkPow: false, checkMerkleRoot: false }),
    RpcError,
    "checkBlock: the block does not deserialize",
  );
});

Deno.test("mining: a Data param is read as v30.0's SpanReader reads it: bytes after the object are left", async () => {
  await using node = await serveNode();
  const { fixture } = node;
  const client = await node.connect();
  await using mining = (await client.makeMining())!;
  await using template = await createTemplate(mining);
  const options = { checkPow: false, checkMerkleRoot: true };
  const block = await template.getBlock();
  const padded = Uint8Array.of(...block, 0xde, 0xad, 0xbe, 0xef);
  assertEquals(await mining.checkBlock(padded, options), { reason: "", debug: "", result: true });
  // A cut one fails as Core's stream does, in one line without the bytes.
  const cut = await assertRejects(
    () => mining.checkBlock(block.subarray(0, block.length - 1), options),
    RpcError,
  );
  assertEquals(
    cut.message,
    "checkBlock: the block does not deserialize: SpanReader::read(): end of data: iostream error",
  );
  const good = await solveTemplate(template, fixture.chain.height + 1, fixture.key.wpkh);
  const coinbase = Uint8Array.of(...good.coinbase, ...new Uint8Array(5000).fill(0xab));
  const oversized = await assertRejects(
    () => template.submitSolution(good.version, good.timestamp, good.nonce, coinbase.subarray(1)),
    RpcError,
  );
  assert(oversized.message.length < 200, oversized.message);
  assertEquals(
    await template.submitSolution(good.version, good.timestamp, good.nonce, coinbase),
    true,
  );
  assertEquals(hex(fixture.chain.tip.hash), hex(good.hash));
});

Deno.test("mining: waitNext wakes on a block mined through another path", async () => {
  await using node = await serveNode();
  const { fixture } = node;
  const client = await node.connect();
  await using mining = (await client.makeMining())!;
  await using template = await createTemplate(mining);
  const waiting = template.waitNext({ timeout: 60_000, feeThreshold: MAX_MONEY });
  await waitFor(() => node.init.waits === 1, 10_000, "waitNext to wait");
  const mined = fixture.mine();
  await using next = (await waiting)!;
  assert(next !== null);
  const header = decodeBlock(await next.getBlock()).header;
  assertEquals(hex(header.prevHash), hex(blockHash(mined.header)));
  assertEquals(node.init.waits, 0);
});

Deno.test("mining: waitNext wakes when fees rise by the threshold, and not below it", async () => {
  await using node = await serveNode();
  const { fixture } = node;
  const client = await node.connect();
  await using mining = (await client.makeMining())!;
  await using template = await createTemplate(mining);
  assertEquals(await template.getTxFees(), []);

  // A rise below the threshold: the wait runs out (null).
  assert(fixture.mempool.accept(spend(fixture.coins[0], 500n)).accepted);
  assertEquals(await template.waitNext({ timeout: 1500, feeThreshold: 1000n }), null);

  const waiting = template.waitNext({ timeout: 60_000, feeThreshold: 1000n });
  await waitFor(() => node.init.waits === 1, 10_000, "waitNext to wait");
  assert(fixture.mempool.accept(spend(fixture.coins[1], 2000n)).accepted);
  await using richer = (await waiting)!;
  assert(richer !== null);
  const fees = await richer.getTxFees();
  assertEquals(fees.reduce((a, b) => a + b, 0n), 2500n);
  // On the same tip: the new template is worth more, not newer.
  const header = decodeBlock(await richer.getBlock()).header;
  assertEquals(hex(header.prevHash), hex(fixture.chain.tip.hash));
});

Deno.test("mining: waitNext returns null after its timeout; a zero timeout polls once", async () => {
  await using node = await serveNode();
  const client = await node.connect();
  await using mining = (await client.makeMining())!;
  await using template = await createTemplate(mining);
  assertEquals(await template.waitNext({ timeout: 50, feeThreshold: MAX_MONEY }), null);
  assertEquals(await template.waitNext({ timeout: 0, feeThreshold: MAX_MONEY }), null);
  assertEquals(node.init.waits, 0);
});

Deno.test("mining: waitTipChanged returns the new tip, or the same one after its timeout", async () => {
  await using node = await serveNode();
  const { fixture } = node;
  const client = await node.connect();
  await using mining = (await client.makeMining())!;
  const tip = (await mining.getTip())!;
  const same = await mining.waitTipChanged(tip.hash, 50);
  assertEquals([hex(same.hash), same.height], [hex(tip.hash), tip.height]);
  // A tip other than the current one: at once.
  const stale = await mining.waitTipChanged(new Uint8Array(32), 60_000);
  assertEquals(hex(stale.hash), hex(tip.hash));

  const waiting = mining.waitTipChanged(tip.hash, 60_000);
  await waitFor(() => node.init.waits === 1, 10_000, "waitTipChanged to wait");
  const mined = fixture.mine();
  const moved = await waiting;
  assertEquals([hex(moved.hash), moved.height], [hex(blockHash(mined.header)), tip.height + 1]);
});

Deno.test("mining: a disconnect during waitNext ends the wait; the node keeps serving", async () => {
  await using node = await serveNode();
  const leaving = await node.connect("leaving");
  const mining = (await leaving.makeMining())!;
  const template = await createTemplate(mining);
  const waiting = template.waitNext({ timeout: 600_000, feeThreshold: MAX_MONEY });
  const tipWait = new Strand("other").run(
    () => mining.waitTipChanged(node.fixture.chain.tip.hash, 600_000),
  );
  await waitFor(() => node.init.waits === 2, 10_000, "both waits to start");
  assertEquals(node.init.liveTemplates, 1);
  await leaving[Symbol.asyncDispose]();
  await assertRejects(() => waiting, RpcError);
  await assertRejects(() => tipWait, RpcError);
  await waitFor(
    () => node.init.waits === 0 && node.init.liveTemplates === 0,
    10_000,
    "the server to end the waits and free the template",
  );

  const staying = await node.connect("staying");
  await using other = (await staying.makeMining())!;
  await using fresh = await createTemplate(other);
  assertEquals((await fresh.getBlockHeader()).length, 80);
});

Deno.test("mining: a client giving up on its waits (their signal) ends them on the node", async () => {
  await using node = await serveNode();
  const client = await node.connect();
  await using mining = (await client.makeMining())!;
  await using template = await createTemplate(mining);
  const controller = new AbortController();
  const { signal } = controller;
  const waiting = template.waitNext({ timeout: 600_000, feeThreshold: MAX_MONEY }, { signal });
  const tipWait = new Strand("other").run(
    () => mining.waitTipChanged(node.fixture.chain.tip.hash, 600_000, { signal }),
  );
  await waitFor(() => node.init.waits === 2, 10_000, "both waits to start");
  controller.abort();
  await assertRejects(() => waiting, DOMException, "aborted");
  await assertRejects(() => tipWait, DOMException, "aborted");
  await waitFor(() => node.init.waits === 0, 10_000, "the node to end both waits");
  // Only the calls ended: the objects serve on.
  assertEquals(node.init.liveTemplates, 1);
  assertEquals((await template.getBlockHeader()).length, 80);
});

Deno.test("mining: destroying a template ends its waitNext with null", async () => {
  await using node = await serveNode();
  const client = await node.connect();
  await using mining = (await client.makeMining())!;
  const template = await createTemplate(mining);
  const waiting = new Strand("waiter").run(
    () => template.waitNext({ timeout: 600_000, feeThreshold: MAX_MONEY }),
  );
  await waitFor(() => node.init.waits === 1, 10_000, "waitNext to wait");
  await template[Symbol.asyncDispose]();
  assertEquals(await waiting, null);
  assertEquals(node.init.liveTemplates, 0);
});

Deno.test("mining: a stopping node ends waits and makes no more templates", async () => {
  await using node = await serveNode();
  const client = await node.connect();
  await using mining = (await client.makeMining())!;
  const tip = (await mining.getTip())!;
  const waiting = mining.waitTipChanged(tip.hash, 600_000);
  await waitFor(() => node.init.waits === 1, 10_000, "waitTipChanged to wait");
  node.init[Symbol.dispose]();
  const interrupted = await waiting;
  assertEquals(interrupted.hash.length, 0, "an interrupted wait returns an empty BlockRef");
  assertEquals(
    await mining.createNewBlock({
      useMempool: true,
      blockReservedWeight: 4000n,
      coinbaseOutputMaxAdditionalSigops: 0n,
    }),
    null,
  );
});

Deno.test("mining: calls naming a thread this server did not mint fail", async () => {
  await using node = await serveNode();
  const client = await node.connect();
  await using mining = (await client.makeMining())!;
  using foreign = Capability.fromServer(serverOf(Thread, { getName: () => "not minted here" }));
  const method = Mining.methods.find((m) => m.name === "getTip")!;
  const request = capabilityOf(mining)!.request({
    interfaceId: Mining.id,
    methodId: method.ordinal,
    ParamsClass: structClass(method.params),
  });
  const context = capnp.utils.initStructAt(0, structClass(Context), request.params);
  capnp.utils.setInterfacePointer(
    request.addCap(foreign.dup()),
    capnp.utils.getPointer(0, context),
  );
  await assertRejects(() => request.send().response, RpcError, "invalid thread handle");
  // The connection is fine afterwards.
  assertEquals(await mining.isTestChain(), true);
});

Deno.test("mining: Init answers Echo, refuses master's makeMining and an unconfigured makeRpc", async () => {
  const requests: string[] = [];
  await using node = await serveNode();
  const client = await node.connect();
  await using echo = (await client.makeEcho())!;
  assertEquals(await echo.echo("hallo"), "hallo");
  assertEquals(await echo.echo(""), "");
  await assertRejects(() => client.makeMiningNext(), RpcError, MINING_NEXT_UNSUPPORTED);
  await assertRejects(() => client.makeRpc(), RpcError, RPC_UNAVAILABLE);

  await using withRpc = await serveNode({
    init: {
      executeRpc: (request, uri, user) => {
        requests.push(`${uri} ${user} ${request}`);
        return Promise.resolve('{"result":3,"error":null,"id":1}');
      },
    },
  });
  const rpcClient = await withRpc.connect();
  await using rpc = (await rpcClient.makeRpc())!;
  assertEquals(
    await rpc.executeRpc('{"method":"getblockcount","id":1}', "/", "alice"),
    '{"result":3,"error":null,"id":1}',
  );
  assertEquals(requests, ['/ alice {"method":"getblockcount","id":1}']);
});

Deno.test("mining: isInitialBlockDownload while the tip is a day old, then never again", () => {
  let clock = 1_700_000_000;
  using chain = openTempChain({ now: () => clock });
  const isInitialBlockDownload = initialBlockDownload(chain);
  assertEquals(isInitialBlockDownload(), true, "the genesis block is from 2011");
  generateBlock(chain, { payoutScript: Uint8Array.of(0x51) });
  assertEquals(isInitialBlockDownload(), false);
  clock += 2 * MAX_TIP_AGE;
  assertEquals(isInitialBlockDownload(), false, "latched, as Core's");
});

Deno.test("mining: a tip older than 20 minutes gives a new template (the test-chain rule)", async () => {
  await using node = await serveNode();
  const { fixture } = node;
  const client = await node.connect();
  await using mining = (await client.makeMining())!;
  await using template = await createTemplate(mining);
  fixture.clock = fixture.chain.tip.header.time + 20 * 60 + 1;
  await using next = (await template.waitNext({ timeout: 60_000, feeThreshold: MAX_MONEY }))!;
  assert(next !== null, "v30.0 offers a minimum-difficulty template on test chains");
  const header = decodeBlock(await next.getBlock()).header;
  assertEquals(hex(header.prevHash), hex(fixture.chain.tip.hash), "on the same tip");
});

Deno.test("mining: a solution for a stale template is stored off the active chain", async () => {
  await using node = await serveNode();
  const { fixture } = node;
  const client = await node.connect();
  await using mining = (await client.makeMining())!;
  await using template = await createTemplate(mining);
  const height = fixture.chain.height + 1;
  const competitor = fixture.mine();
  const solution = await solveTemplate(template, height, fixture.key.wpkh);
  // v30.0's ProcessNewBlock accepts it (true); the first block seen stays the tip.
  assertEquals(
    await template.submitSolution(
      solution.version,
      solution.timestamp,
      solution.nonce,
      solution.coinbase,
    ),
    true,
  );
  assertEquals(hex(fixture.chain.tip.hash), hex(blockHash(competitor.header)));
  const stored = fixture.chain.entry(solution.hash)!;
  assertEquals(fixture.chain.isActive(stored), false);
});

Deno.test("mining: calls on one thread queue in order (interface_ipc.py's three waitNext)", async () => {
  await using node = await serveNode();
  const client = await node.connect();
  await using mining = (await client.makeMining())!;
  await using template = await createTemplate(mining);
  const order: number[] = [];
  const results = await Promise.all(
    [1, 2, 3].map((n) =>
      template.waitNext({ timeout: 100, feeThreshold: MAX_MONEY }).then((next) => {
        order.push(n);
        return next;
      })
    ),
  );
  assertEquals(results, [null, null, null]);
  assertEquals(order, [1, 2, 3]);
});

Deno.test("mining: templates alive at once are bounded; destroying one frees a place", async () => {
  await using node = await serveNode();
  const local = node.init.makeMining();
  const held = [];
  for (let i = 0; i < MAX_LIVE_TEMPLATES; i++) {
    held.push((await local.createNewBlock(CREATE_OPTIONS)) as unknown as Disposable);
  }
  const client = await node.connect();
  await using mining = (await client.makeMining())!;
  await assertRejects(
    () => mining.createNewBlock(CREATE_OPTIONS),
    RpcError,
    `too many block templates in use (${MAX_LIVE_TEMPLATES})`,
  );
  held.pop()![Symbol.dispose]();
  await using template = await createTemplate(mining);
  assertEquals((await template.getBlockHeader()).length, 80);
  for (const template of held) template[Symbol.dispose]();
  assertEquals(node.init.liveTemplates, 1);
});
