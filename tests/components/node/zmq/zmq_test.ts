/**
 * The node's ZMQ notifications as a Bitcoin tool receives them: the real
 * node with `-zmqpub…` options and libzmq's own SUB sockets (pyzmq, from
 * Debian's `python3-zmq`) connected to it, and for each event the messages,
 * bodies and counts bitcoind sends: a block (`hashblock`, `rawblock` on a
 * shared socket; its transactions' `hashtx`, `rawtx`; `sequence` `C`), a
 * transaction the mempool takes (`A` with its mempool sequence), one a
 * replacement removes (`R`), a reorganisation (`D`, the mempool's `A`,
 * then the new blocks), and `getzmqnotifications`; `ipc://` sockets, one
 * socket for the spellings of one path; a subscriber getting in past peers
 * that never finish the handshake, and getting every message, then a place,
 * past peers that never read.
 * Skipped, saying so, without python3-zmq.
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import { hex } from "@scure/base";
import {
  encodeBlock,
  encodeTx,
  generateBlock,
  hashToHex,
  scriptToAddress,
} from "../../../../components/node/chain/mod.ts";
import { assert, assertEquals, assertThrows } from "../../../assert.ts";
import { tempDir, tempSocket, waitFor } from "../../../helpers.ts";
import { signTx, TestKey } from "../chain/chain_helpers.ts";
import { freePort } from "../node_process.ts";
import { ZmtpPublisher } from "../../../../components/node/zmq/zmtp.ts";
import { subscribed } from "./zmtp_peer.ts";
import { ZmqNotifications } from "../../../../components/node/zmq/notifications.ts";
import { Mempool } from "../../../../components/node/mempool/mod.ts";
import { openTempChain } from "../chain/chain_helpers.ts";
import { coinbaseUtxo, type RealNode, startRealNode } from "../real_node.ts";

const PYTHON = "/usr/bin/python3";
const SUBSCRIBER = new URL("./subscriber.py", import.meta.url).pathname;

/** Whether Debian's python3 has pyzmq (`python3-zmq`). */
function hasPyzmq(): boolean {
  try {
    return new Deno.Command(PYTHON, { args: ["-c", "import zmq"], stderr: "null" }).outputSync()
      .success;
  } catch {
    return false;
  }
}

/** One message as the subscriber printed it. */
interface Received {
  readonly address: string;
  readonly topic: string;
  readonly body: string;
  readonly count: number;
  readonly parts: number;
}

/** The libzmq subscriber process, its messages gathered as they come. */
class Subscriber implements AsyncDisposable {
  readonly #child: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly received: Received[] = [];
  #ready = false;
  readonly #reading: Promise<void>;

  constructor(readonly addresses: string[]) {
    const child = this.#child = new Deno.Command(PYTHON, {
      args: [SUBSCRIBER, ...addresses],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#stdin = this.#child.stdin.getWriter();
    this.#reading = (async () => {
      let rest = "";
      for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
        rest += chunk;
        const lines = rest.split("\n");
        rest = lines.pop()!;
        for (const line of lines) {
          const value = JSON.parse(line);
          if (value.ready) this.#ready = true;
          else this.received.push(value);
        }
      }
    })();
  }

  async ready(): Promise<void> {
    await waitFor(() => this.#ready, 20_000, "the subscriber to connect");
  }

  /**
   * Calls `send` every 100 ms until `arrived` holds of the messages
   * gathered: libzmq sends its subscription a moment after it connects.
   */
  async hear(
    send: () => void,
    what: string,
    arrived: (m: Received) => boolean = () => true,
  ): Promise<void> {
    await waitFor(
      async () => {
        send();
        await new Promise((resolve) => setTimeout(resolve, 100));
        return this.received.some(arrived);
      },
      30_000,
      what,
    );
  }

  /** The messages from `address`, taken out of those gathered. */
  take(address: string): Received[] {
    const taken = this.received.filter((m) => m.address === address);
    this.received.splice(
      0,
      this.received.length,
      ...this.received.filter((m) => m.address !== address),
    );
    return taken;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#stdin.close().catch(() => {});
    await this.#child.status;
    await this.#reading;
  }
}

const key = new TestKey(7);
const ADDRESS = scriptToAddress(key.wpkh)!;

/**
 * Mines until each of the subscriber's sockets has delivered (libzmq's
 * subscriptions arrive a moment after the connection; the first block also
 * ends initial block download); the blocks mined.
 */
async function mineUntilSubscribed(node: RealNode, subscriber: Subscriber): Promise<string[]> {
  await subscriber.ready();
  const mined: string[] = [];
  await waitFor(
    async () => {
      mined.push(...await node.call("generatetoaddress", [1, ADDRESS]));
      await new Promise((resolve) => setTimeout(resolve, 100));
      return subscriber.addresses.every((a) => subscriber.received.some((m) => m.address === a));
    },
    30_000,
    "every socket's first message",
  );
  return mined;
}

/** A `sequence` body: the hash, the label, and for `A`/`R` the mempool sequence (8 bytes LE). */
function sequenceBody(hash: string, label: string, n?: number): string {
  const number = new Uint8Array(8);
  new DataView(number.buffer).setBigUint64(0, BigInt(n ?? 0), true);
  return `${hash}${hex.encode(new TextEncoder().encode(label))}${
    n === undefined ? "" : hex.encode(number)
  }`;
}

Deno.test({
  name:
    "zmq: libzmq subscribers get bitcoind's hashblock, rawblock, hashtx, rawtx and sequence messages, with their counts",
  ignore: !hasPyzmq(),
}, async () => {
  const [blockPort, txPort, sequencePort] = [freePort(), freePort(), freePort()];
  const blocks = `tcp://127.0.0.1:${blockPort}`;
  const txs = `tcp://127.0.0.1:${txPort}`;
  const sequence = `tcp://127.0.0.1:${sequencePort}`;
  await using node = await startRealNode({
    args: [
      `-zmqpubrawblock=${blocks}`,
      `-zmqpubhashblock=${blocks}`,
      `-zmqpubhashtx=${txs}`,
      `-zmqpubrawtx=${txs}`,
      `-zmqpubrawtxhwm=5000`,
      `-zmqpubsequence=${sequence}`,
    ],
  });
  assertEquals(await node.call("getzmqnotifications"), [
    { type: "pubhashblock", address: blocks, hwm: 1000 },
    { type: "pubhashtx", address: txs, hwm: 1000 },
    { type: "pubrawblock", address: blocks, hwm: 1000 },
    { type: "pubrawtx", address: txs, hwm: 5000 },
    { type: "pubsequence", address: sequence, hwm: 1000 },
  ]);
  await using subscriber = new Subscriber([blocks, txs, sequence]);
  const mined = await mineUntilSubscribed(node, subscriber);
  mined.push(...await node.call("generatetoaddress", [100, ADDRESS]));
  // Each socket delivers in order: once the last block's last message is in on each, no
  // earlier one is still on its way.
  const last = await node.call("getblock", [mined.at(-1), 2]);
  const lastRaw: string = await node.call("getblock", [mined.at(-1), 0]);
  await waitFor(
    () =>
      subscriber.received.some((m) => m.topic === "rawblock" && m.body === lastRaw) &&
      subscriber.received.some((m) => m.topic === "rawtx" && m.body === last.tx[0].hex) &&
      subscriber.received.some((m) => m.topic === "sequence" && m.body.startsWith(last.hash)),
    30_000,
    "the last block's messages on every socket",
  );
  subscriber.received.length = 0;
  /** Waits until each socket has delivered at least its count of messages. */
  const delivered = (counts: [string, number][], what: string) =>
    waitFor(
      () =>
        counts.every(([a, n]) => subscriber.received.filter((m) => m.address === a).length >= n),
      20_000,
      what,
    );

  // A block: its hash and its bytes on the shared socket, its transactions, its connection.
  const [hash] = await node.call("generatetoaddress", [1, ADDRESS]);
  const block = await node.call("getblock", [hash, 2]);
  await delivered([[blocks, 2], [txs, 2], [sequence, 1]], "a block's five messages");
  const atBlocks = subscriber.take(blocks);
  assertEquals(atBlocks.map((m) => [m.topic, m.body, m.parts]), [
    ["hashblock", hash, 3],
    ["rawblock", await node.call("getblock", [hash, 0]), 3],
  ]);
  // Each notifier counts its own messages: one hashblock and one rawblock per block so far.
  assertEquals(atBlocks.map((m) => m.count), [mined.length, mined.length]);
  const coinbase = block.tx[0];
  assertEquals(subscriber.take(txs).map((m) => [m.topic, m.body]), [
    ["hashtx", coinbase.txid],
    ["rawtx", coinbase.hex],
  ]);
  assertEquals(subscriber.take(sequence).map((m) => [m.topic, m.body]), [
    ["sequence", sequenceBody(hash, "C")],
  ]);

  // The mempool takes a transaction: hashtx, rawtx, and A with its mempool sequence.
  const funding = await coinbaseUtxo(node.call, mined[0], key);
  const first = signTx([funding], [{ script: key.wpkh, amount: funding.amount - 1_000n }]);
  const mempoolSequence = (await node.call("getrawmempool", [false, true])).mempool_sequence;
  const firstTxid: string = await node.call("sendrawtransaction", [hex.encode(encodeTx(first))]);
  await delivered([[txs, 2], [sequence, 1]], "a transaction's three messages");
  assertEquals(subscriber.take(txs).map((m) => [m.topic, m.body]), [
    ["hashtx", firstTxid],
    ["rawtx", hex.encode(encodeTx(first))],
  ]);
  assertEquals(subscriber.take(sequence).map((m) => m.body), [
    sequenceBody(firstTxid, "A", mempoolSequence),
  ]);

  // A replacement: the first removed (R), the second taken (A), each with its own number.
  const second = signTx([funding], [{ script: key.wpkh, amount: funding.amount - 10_000n }]);
  const secondTxid: string = await node.call("sendrawtransaction", [hex.encode(encodeTx(second))]);
  await delivered([[txs, 2], [sequence, 2]], "a replacement's four messages");
  assertEquals(subscriber.take(txs).map((m) => m.body), [secondTxid, hex.encode(encodeTx(second))]);
  const replaced = subscriber.take(sequence).map((m) => m.body);
  assertEquals(replaced, [
    sequenceBody(firstTxid, "R", mempoolSequence + 1),
    sequenceBody(secondTxid, "A", mempoolSequence + 2),
  ]);

  // Two blocks (the first takes the replacement): a hashblock for each new tip.
  const [a1, a2] = await node.call("generatetoaddress", [2, ADDRESS]);
  // Two coinbases and the replacement; two hashblocks and rawblocks; two C.
  await delivered([[blocks, 4], [txs, 6], [sequence, 2]], "two blocks' messages");
  assertEquals(
    subscriber.take(blocks).filter((m) => m.topic === "hashblock").map((m) => m.body),
    [a1, a2],
  );
  subscriber.take(txs);
  subscriber.take(sequence);
  // Both disconnected (D, D; their transactions told again), the replacement back in the
  // mempool (A); no hashblock for a tip that only went back.
  await node.call("invalidateblock", [a1]);
  await delivered([[txs, 8], [sequence, 3]], "the disconnections");
  const label = (m: Received) =>
    `${m.body.slice(0, 64)} ${String.fromCharCode(parseInt(m.body.slice(64, 66), 16))}`;
  assertEquals(subscriber.take(sequence).map(label), [`${a2} D`, `${a1} D`, `${secondTxid} A`]);
  assertEquals(subscriber.take(blocks), []);
  subscriber.take(txs);
  // Reconnected: C, C, and a hashblock and rawblock for each step of the activation (Core's
  // ActivateBestChainStep ends as soon as the tip beats where it began: here, each block).
  await node.call("reconsiderblock", [a1]);
  await delivered([[blocks, 4], [txs, 6], [sequence, 2]], "the reconnections");
  assertEquals(subscriber.take(sequence).map(label), [`${a1} C`, `${a2} C`]);
  assertEquals(subscriber.take(blocks).map((m) => [m.topic, m.body.slice(0, 64)]), [
    ["hashblock", a1],
    ["rawblock", (await node.call("getblock", [a1, 0])).slice(0, 64)],
    ["hashblock", a2],
    ["rawblock", (await node.call("getblock", [a2, 0])).slice(0, 64)],
  ]);
});

Deno.test({
  name:
    "zmq: a reorganisation tells the disconnection, then the mempool's re-addition, then the new blocks, as Core's ActivateBestChainStep",
  ignore: !hasPyzmq(),
}, async () => {
  // One socket for every topic: the exact interleaving is what a single subscriber sees.
  const address = `tcp://127.0.0.1:${freePort()}`;
  await using node = await startRealNode({
    args: [`-zmqpubhashtx=${address}`, `-zmqpubhashblock=${address}`, `-zmqpubsequence=${address}`],
  });
  await using subscriber = new Subscriber([address]);
  const mined = await mineUntilSubscribed(node, subscriber);
  await node.call("generatetoaddress", [100, ADDRESS]);
  const funding = await coinbaseUtxo(node.call, mined[0], key);
  const tx = signTx([funding], [{ script: key.wpkh, amount: funding.amount - 1_000n }]);
  const txid: string = await node.call("sendrawtransaction", [hex.encode(encodeTx(tx))]);
  // Branch a: a1 confirms the transaction. Branch b, one block longer, does not: mined while
  // a1 is invalid, then set aside so that a1 is the tip again.
  const [a1] = await node.call("generatetoaddress", [1, ADDRESS]);
  await node.call("invalidateblock", [a1]);
  const { hash: b1 } = await node.call("generateblock", [ADDRESS, []]);
  const { hash: b2 } = await node.call("generateblock", [ADDRESS, []]);
  await node.call("invalidateblock", [b1]);
  // One socket delivers in order: once b1's D is in, nothing earlier is on its way.
  const received = (topic: string, body: string) =>
    subscriber.received.some((m) => m.topic === topic && m.body === body);
  await waitFor(() => received("sequence", sequenceBody(b1, "D")), 20_000, "b1 disconnected");
  subscriber.received.length = 0;
  await node.call("reconsiderblock", [a1]);
  await waitFor(
    () => received("hashblock", a1),
    20_000,
    "a1 the tip again",
  );
  subscriber.received.length = 0;
  const mempoolSequence = (await node.call("getrawmempool", [false, true])).mempool_sequence;
  const coinbase = async (hash: string) => (await node.call("getblock", [hash, 1])).tx[0];

  // One activation: a1 off, b1 and b2 on. Core re-adds a1's transaction at the end of the step
  // (MaybeUpdateMempoolForReorg) and signals BlockConnected after it, UpdatedBlockTip last.
  await node.call("reconsiderblock", [b1]);
  await waitFor(() => subscriber.received.length >= 10, 20_000, "the reorganisation's messages");
  assertEquals(subscriber.take(address).map((m) => [m.topic, m.body]), [
    ["hashtx", await coinbase(a1)],
    ["hashtx", txid],
    ["sequence", sequenceBody(a1, "D")],
    ["hashtx", txid],
    ["sequence", sequenceBody(txid, "A", mempoolSequence)],
    ["hashtx", await coinbase(b1)],
    ["sequence", sequenceBody(b1, "C")],
    ["hashtx", await coinbase(b2)],
    ["sequence", sequenceBody(b2, "C")],
    ["hashblock", b2],
  ]);
  assertEquals(await node.call("getrawmempool"), [txid]);
});

Deno.test({
  name:
    "zmq: a hashblock for each iteration of the activation, also when invalidateblock, reconsiderblock or preciousblock moves to a branch of no more work, as Core's UpdatedBlockTip",
  ignore: !hasPyzmq(),
}, async () => {
  const address = `tcp://127.0.0.1:${freePort()}`;
  await using node = await startRealNode({
    args: [`-zmqpubhashblock=${address}`, `-zmqpubsequence=${address}`],
  });
  await using subscriber = new Subscriber([address]);
  await mineUntilSubscribed(node, subscriber);
  // Branch a (a6, a7) first, then branch b (b6, b7, paying elsewhere) mined while a6 is
  // invalid; a6 reconsidered, a7 is the tip again: as much work as b7, and received first.
  const [a6, a7] = await node.call("generatetoaddress", [2, ADDRESS]);
  await node.call("invalidateblock", [a6]);
  const elsewhere = scriptToAddress(new TestKey(8).wpkh)!;
  const [b6, b7] = await node.call("generatetoaddress", [2, elsewhere]);
  const shown = (m: Received) =>
    m.topic === "hashblock"
      ? `hashblock ${m.body}`
      : `${String.fromCharCode(parseInt(m.body.slice(64, 66), 16))} ${m.body.slice(0, 64)}`;
  /** Runs `method` and returns what the socket told until `last` (in order on one socket). */
  const told = async (method: string, hash: string, last: string) => {
    subscriber.received.length = 0;
    await node.call(method, [hash]);
    await waitFor(
      () => subscriber.received.some((m) => shown(m) === last),
      20_000,
      `${last} after ${method}`,
    );
    return subscriber.take(address).map(shown);
  };
  await waitFor(
    () => subscriber.received.some((m) => shown(m) === `hashblock ${b7}`),
    20_000,
    "b7 the tip",
  );

  // One step and one iteration: a7 beats b7 on arrival, not on work.
  assertEquals(await told("reconsiderblock", a6, `hashblock ${a7}`), [
    `D ${b7}`,
    `D ${b6}`,
    `C ${a6}`,
    `C ${a7}`,
    `hashblock ${a7}`,
  ]);
  // Back to a5, then two iterations up branch b, each telling its tip.
  assertEquals(await told("invalidateblock", a6, `hashblock ${b7}`), [
    `D ${a7}`,
    `D ${a6}`,
    `C ${b6}`,
    `hashblock ${b6}`,
    `C ${b7}`,
    `hashblock ${b7}`,
  ]);
  await told("reconsiderblock", a6, `hashblock ${a7}`);
  assertEquals(await told("preciousblock", b7, `hashblock ${b7}`), [
    `D ${a7}`,
    `D ${a6}`,
    `C ${b6}`,
    `C ${b7}`,
    `hashblock ${b7}`,
  ]);
});

Deno.test({
  name:
    "zmq: ipc:// and unix: addresses publish on a UNIX socket, granted alone; a stale socket file is replaced and the node removes its own",
  ignore: !hasPyzmq(),
}, async () => {
  using socket = tempSocket("zmq");
  // What a killed publisher leaves: a socket file nobody listens on (libzmq unlinks it on bind).
  new Deno.Command(PYTHON, {
    args: [
      "-c",
      "import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])",
      socket.path,
    ],
  }).outputSync();
  assertEquals(Deno.lstatSync(socket.path).isSocket, true);
  const address = `ipc://${socket.path}`;
  const node = await startRealNode({
    args: [`-zmqpubhashblock=unix:${socket.path}`, `-zmqpubsequence=${address}`],
  });
  try {
    // The node may read and write that socket file and connect to it, nothing else there.
    for (const kind of ["read", "write"]) {
      const flag = node.flags.find((f) => f.startsWith(`--allow-${kind}=`))!;
      assertEquals(flag.split("=")[1].split(",").includes(socket.path), true, flag);
      assertEquals(flag.includes(`${socket.path.slice(0, -"/zmq.sock".length)},`), false, flag);
    }
    assert(
      node.flags.some((f) => f.startsWith("--allow-net=") && f.includes(`unix:${socket.path}`)),
    );
    assertEquals(await node.call("getzmqnotifications"), [
      { type: "pubhashblock", address, hwm: 1000 },
      { type: "pubsequence", address, hwm: 1000 },
    ]);
    await using subscriber = new Subscriber([address]);
    const mined = await mineUntilSubscribed(node, subscriber);
    // In order on one socket: the last block's hashblock in, nothing earlier is on its way.
    await waitFor(
      () => subscriber.received.some((m) => m.topic === "hashblock" && m.body === mined.at(-1)),
      20_000,
      "the last block's hashblock",
    );
    subscriber.received.length = 0;
    const [hash] = await node.call("generatetoaddress", [1, ADDRESS]);
    await waitFor(() => subscriber.received.length >= 2, 20_000, "the block's messages");
    assertEquals(subscriber.take(address).map((m) => [m.topic, m.body, m.count]), [
      ["sequence", sequenceBody(hash, "C"), mined.length],
      ["hashblock", hash, mined.length],
    ]);
    assertEquals(await node.stop(), 0);
  } finally {
    await node[Symbol.asyncDispose]();
  }
  // As libzmq's close, the socket file goes with the node.
  assertThrows(() => Deno.lstatSync(socket.path), Deno.errors.NotFound);
});

Deno.test({
  name:
    "zmq: peers that never finish the handshake cannot keep a libzmq subscriber out, however many",
  ignore: !hasPyzmq(),
}, async () => {
  // The default bounds, and handshakes that would never time out here: only the separate
  // bound on unfinished handshakes lets the subscriber in.
  const logged: string[] = [];
  await using publisher = ZmtpPublisher.bind({ hostname: "127.0.0.1", port: 0 }, {
    hwm: 1000,
    handshakeMs: 3_600_000,
    log: (line) => logged.push(line),
  });
  const { port } = publisher;
  // More idle connections than subscribers are allowed: silent ones, and ones that stop
  // halfway through the greeting.
  const idle: Deno.Conn[] = [];
  for (let i = 0; i < 300; i++) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    if (i % 2 === 1) await conn.write(Uint8Array.of(0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f));
    idle.push(conn);
  }
  try {
    const address = `tcp://127.0.0.1:${port}`;
    await using subscriber = new Subscriber([address]);
    await subscriber.ready();
    const topic = new TextEncoder().encode("hashblock");
    // Its subscription arrives a moment after its handshake: publish until it has one.
    await subscriber.hear(
      () => publisher.publish([topic, Uint8Array.of(1, 2, 3), Uint8Array.of(0, 0, 0, 0)]),
      "a message past the idle peers",
    );
    assertEquals(subscriber.received[0].topic, "hashblock");
    assertEquals(subscriber.received[0].body, "010203");
    assertEquals(publisher.subscribers, 1);
    assert(logged.some((line) => line.includes("closing the oldest unfinished handshake")));
  } finally {
    for (const conn of idle) conn.close();
  }
});

Deno.test("zmq: an address that cannot be bound leaves the node without ZMQ notifications, said in its log, as Core", async () => {
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const address = `tcp://127.0.0.1:${taken.addr.port}`;
  await using node = await startRealNode({ args: [`-zmqpubhashblock=${address}`] });
  assertEquals(await node.call("getzmqnotifications"), []);
  await node.call("generatetoaddress", [1, ADDRESS]);
  const log = Deno.readTextFileSync(`${node.datadir}/regtest/debug.log`);
  assertEquals(log.includes("zmq: Error: Failed to bind address, msg: "), true, log);
});

Deno.test("zmq: a relative ipc:// path is bound against the working directory the options were read in, where its grants are, not the process's", async () => {
  using dir = tempDir("zmq_cwd_");
  using chain = openTempChain();
  using mempool = new Mempool(chain);
  const warned: string[] = [];
  const sources = {
    chain,
    mempool,
    isInitialBlockDownload: () => false,
    log: () => {},
    warn: (line: string) => void warned.push(line),
  };
  const notifiers = [{
    type: "pubhashblock" as const,
    address: "ipc://zmq/../pub.sock",
    hwm: 1000,
  }];
  assert(dir.path !== Deno.cwd());
  {
    await using zmq = ZmqNotifications.start(notifiers, sources, dir.path);
    assertEquals([zmq.active.length, warned], [1, []]);
    const socket = join(dir.path, "pub.sock");
    assertEquals(Deno.lstatSync(socket).isSocket, true);
    (await Deno.connect({ transport: "unix", path: socket })).close();
    assertThrows(() => Deno.lstatSync(join(Deno.cwd(), "pub.sock")), Deno.errors.NotFound);
  }
});

Deno.test({
  name:
    "zmq: two spellings of one ipc:// path are one socket: a libzmq subscriber of either hears both notifiers",
  ignore: !hasPyzmq(),
}, async () => {
  using socket = tempSocket("zmq");
  const dir = dirname(socket.path);
  const plain = `ipc://${socket.path}`;
  const roundabout = `ipc://${dir}/../${basename(dir)}/./zmq.sock`;
  await using node = await startRealNode({
    args: [`-zmqpubhashblock=${plain}`, `-zmqpubsequence=${roundabout}`, "-debug=zmq"],
  });
  // Each notifier as given, as Core's getzmqnotifications shows them.
  assertEquals(await node.call("getzmqnotifications"), [
    { type: "pubhashblock", address: plain, hwm: 1000 },
    { type: "pubsequence", address: roundabout, hwm: 1000 },
  ]);
  const log = Deno.readTextFileSync(`${node.datadir}/regtest/debug.log`);
  assert(log.includes(`Reusing socket for address ${roundabout}`), log);
  // Two subscribers, one per spelling: both reach the one socket, and hear both notifiers.
  await using subscriber = new Subscriber([plain, roundabout]);
  const mined = await mineUntilSubscribed(node, subscriber);
  await waitFor(
    () =>
      [plain, roundabout].every((address) =>
        subscriber.received.some((m) =>
          m.address === address && m.topic === "hashblock" && m.body === mined.at(-1)
        )
      ),
    20_000,
    "the last block's hashblock on both",
  );
  subscriber.received.length = 0;
  const [hash] = await node.call("generatetoaddress", [1, ADDRESS]);
  await waitFor(() => subscriber.received.length >= 4, 20_000, "the block's messages");
  for (const address of [plain, roundabout]) {
    assertEquals(subscriber.take(address).map((m) => [m.topic, m.body, m.count]), [
      ["sequence", sequenceBody(hash, "C"), mined.length],
      ["hashblock", hash, mined.length],
    ]);
  }
});

Deno.test({
  name:
    "zmq: a relative ipc:// path and the absolute one it names share one socket, which serves both notifiers",
  ignore: !hasPyzmq(),
}, async () => {
  using dir = tempDir("zmq_cwd_");
  using chain = openTempChain();
  using mempool = new Mempool(chain);
  const logged: string[] = [];
  const warned: string[] = [];
  const sources = {
    chain,
    mempool,
    isInitialBlockDownload: () => false,
    log: (line: string) => void logged.push(line),
    warn: (line: string) => void warned.push(line),
  };
  const absolute = `ipc://${join(dir.path, "pub.sock")}`;
  const notifiers = [
    { type: "pubhashblock" as const, address: "ipc://pub.sock", hwm: 1000 },
    { type: "pubrawblock" as const, address: absolute, hwm: 1000 },
  ];
  await using zmq = ZmqNotifications.start(notifiers, sources, dir.path);
  assertEquals([zmq.active.length, warned], [2, []]);
  assert(logged.includes(`Reusing socket for address ${absolute}`), logged.join("\n"));
  await using subscriber = new Subscriber([absolute]);
  await subscriber.ready();
  // Its subscription arrives a moment after it connects: mine until a block's messages come.
  const payoutScript = key.wpkh;
  await subscriber.hear(
    () => generateBlock(chain, { payoutScript }),
    "a block's messages",
    (m) => m.topic === "rawblock",
  );
  subscriber.received.length = 0;
  const block = generateBlock(chain, { payoutScript });
  await waitFor(() => subscriber.received.length >= 2, 20_000, "the block's two messages");
  const messages = subscriber.take(absolute);
  assertEquals(messages.map((m) => m.topic), ["hashblock", "rawblock"]);
  assertEquals(messages[0].body, hashToHex(chain.tip.hash));
  assertEquals(messages[1].body, hex.encode(encodeBlock(block)));
  // Each notifier counts its own messages.
  assertEquals(messages[0].count, messages[1].count);
});

Deno.test({
  name:
    "zmq: subscribers that never read hold no more than the publisher's bound, starve no libzmq subscriber, and give way to a new one",
  ignore: !hasPyzmq(),
}, async () => {
  const logged: string[] = [];
  const budget = 1024 * 1024;
  await using publisher = ZmtpPublisher.bind({ hostname: "127.0.0.1", port: 0 }, {
    hwm: 1000,
    maxPublisherBytes: budget,
    maxSubscribers: 5,
    log: (line) => logged.push(line),
  });
  const { port } = publisher;
  const address = `tcp://127.0.0.1:${port}`;
  // Four peers through the handshake, subscribed to everything, that never read.
  const stalled: Deno.Conn[] = [];
  for (let i = 0; i < 4; i++) stalled.push(await subscribed(port));
  try {
    await using reader = new Subscriber([address]);
    await reader.ready();
    await waitFor(
      () => publisher.subscribers === 5 && publisher.subscriptions === 5,
      20_000,
      "five subscribers, each subscribed",
    );
    // 400 messages of 64 KiB (26 MB): far past what the stalled peers' socket buffers take
    // and the publisher's 1 MiB, each published once the reader has the one before.
    const topic = new TextEncoder().encode("rawblock");
    const body = new Uint8Array(64 * 1024);
    for (let i = 0; i < 400; i++) {
      new DataView(body.buffer).setUint32(0, i);
      publisher.publish([topic, body, Uint8Array.of(i & 0xff, i >> 8, 0, 0)]);
      assert(publisher.queuedBytes <= budget, `${publisher.queuedBytes} bytes queued`);
      await waitFor(() => reader.received.length > 0, 20_000, `message ${i}`);
      const message = reader.received.shift()!;
      assertEquals([message.topic, message.count, message.body.slice(0, 8)], [
        "rawblock",
        i,
        i.toString(16).padStart(8, "0"),
      ]);
    }
    // The places are all taken; a new subscriber takes that of a peer that lost messages.
    await using late = new Subscriber([address]);
    await late.ready();
    const small = Uint8Array.of(1, 2, 3);
    await late.hear(
      () => publisher.publish([topic, small, Uint8Array.of(0, 0, 0, 0)]),
      "a message to the late subscriber",
    );
    assertEquals(late.received[0].body, "010203");
    assertEquals(publisher.subscribers, 5);
    assert(
      logged.some((line) => /closing a subscriber that lost \d+ messages/.test(line)),
      logged.join("\n"),
    );
    // The reader lost nothing meanwhile.
    await waitFor(
      () => reader.received.length > 0 && reader.received.every((m) => m.body === "010203"),
      20_000,
      "the reader's small messages",
    );
    assert(publisher.queuedBytes <= budget, `${publisher.queuedBytes} bytes queued`);
  } finally {
    for (const conn of stalled) conn.close();
  }
});
