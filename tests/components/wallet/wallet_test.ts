/**
 * The wallet core against a real chain and mempool (no mocks): addresses
 * and descriptors, balances kept current by chain notifications, a signed
 * send accepted by the mempool and mined, encryption, and a reload that
 * catches up with blocks mined while the wallet was closed.
 *
 * @module
 */
import { assert, assertEquals, assertRejects, assertThrows } from "../../assert.ts";
import { Wallet, WalletError } from "../../../components/wallet/wallet.ts";
import { sendMoney } from "../../../components/wallet/spend.ts";
import { descriptorChecksum } from "../../../components/node/chain/descriptor.ts";
import { decodeDestination } from "../../../components/node/chain/address.ts";
import { internalBytes } from "../../../components/wallet/tx.ts";
import { testNode } from "./chain_fixture.ts";
import { Transaction } from "@scure/btc-signer";

const COIN = 100_000_000n;
const MNEMONIC =
  "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

Deno.test("wallet: BIP84/BIP86 addresses and Core's descriptor strings", async () => {
  using node = testNode();
  const wallet = await Wallet.create(`${node.dir}/w`, "w", node.makeChain(), {
    mnemonic: MNEMONIC,
  });
  try {
    // BIP 84's test vector (m/84'/1'/0'/0/0), with regtest's prefix.
    assertEquals(
      wallet.newAddress("wpkh", false).address,
      "bcrt1q6rz28mcfaxtmd6v789l9rrlrusdprr9pz3cppk",
    );
    const tr = wallet.newAddress("tr", false);
    assert(tr.address.startsWith("bcrt1p") && tr.address.length === 64, tr.address);
    const decoded = decodeDestination(tr.address);
    assert(decoded.ok && decoded.kind === "witness_v1_taproot", "the node reads the address");
    const desc = wallet.accounts.get("wpkh")!.descriptor(false);
    const [body, checksum] = desc.split("#");
    assertEquals(checksum, descriptorChecksum(body), "the node's checksum agrees");
    assert(body.startsWith("wpkh([73c5da0a/84h/1h/0h]tpub") && body.endsWith("/0/*)"), body);
    assert(wallet.accounts.get("tr")!.descriptor(true).startsWith("tr([73c5da0a/86h/1h/0h]tpub"));
    assertEquals(wallet.nextIndex("wpkh", false), 1);
  } finally {
    await wallet.close();
  }
});

Deno.test("wallet: balances, a send, encryption and a reload", async () => {
  using node = testNode();
  let a = await Wallet.create(`${node.dir}/a`, "a", node.makeChain());
  const b = await Wallet.create(`${node.dir}/b`, "b", node.makeChain());
  try {
    const mine = a.newAddress("wpkh", false);
    node.mine(1, mine.script);
    await a.sync();
    assertEquals(a.balances(), {
      trusted: 0n,
      untrustedPending: 0n,
      immature: 50n * COIN,
      used: 0n,
    });
    node.mine(100, mine.script);
    await a.sync();
    assertEquals(a.balances(), {
      trusted: 50n * COIN,
      untrustedPending: 0n,
      immature: 5000n * COIN,
      used: 0n,
    });
    assertEquals(a.tip.height, 101);

    // A taproot recipient: the send spends a P2WPKH coinbase; the mempool checks the signature.
    const to = b.newAddress("tr", false);
    const { tx, fee } = await sendMoney(a, [{
      script: to.script,
      amount: 10n * COIN,
      subtractFee: false,
    }], 2000n);
    assert(node.mempool.has(internalBytes(tx.txid)), "the mempool accepted the send");
    // The fee is for the largest signatures: at least the rate times the actual size.
    assert(fee >= 2n * BigInt(tx.vsize) && fee <= 2n * BigInt(tx.vsize + 2), `fee ${fee}`);
    await b.sync();
    assertEquals(b.balances(), {
      trusted: 0n,
      untrustedPending: 10n * COIN,
      immature: 0n,
      used: 0n,
    });
    assertEquals(a.balances().trusted, 40n * COIN - fee, "change is trusted at once");

    node.mine(1, mine.script);
    await a.sync();
    await b.sync();
    assertEquals(b.balances(), {
      trusted: 10n * COIN,
      untrustedPending: 0n,
      immature: 0n,
      used: 0n,
    });
    assertEquals(a.balances().trusted, 90n * COIN - fee);

    // b spends its taproot coin (key-path signature), subtracting the fee from the amount.
    const back = a.newAddress("wpkh", false);
    const spent = await sendMoney(b, [{
      script: back.script,
      amount: 10n * COIN,
      subtractFee: true,
    }], 1000n);
    assert(node.mempool.has(internalBytes(spent.tx.txid)));
    assertEquals(spent.tx.outputs.length, 1, "no change");
    assertEquals(spent.tx.outputs[0].amount, 10n * COIN - spent.fee);

    // Encryption: sends need the passphrase; addresses do not.
    await a.encrypt("secret");
    assert(a.encrypted && a.unlockedUntil === 0);
    const error = await assertRejects(
      () => sendMoney(a, [{ script: to.script, amount: COIN, subtractFee: false }], 1000n),
      WalletError,
    );
    assertEquals(error.code, -13);
    a.newAddress("wpkh", false);
    assertEquals(
      (await assertRejects(() => a.unlock("wrong", 10), WalletError)).code,
      -14,
    );
    await a.unlock("secret", 60);
    assert(a.unlockedUntil > Date.now() / 1000);
    await sendMoney(a, [{ script: to.script, amount: COIN, subtractFee: false }], 1000n);
    await a.lock();
    const dbText = new TextDecoder("latin1").decode(Deno.readFileSync(`${a.dir}/wallet.dat`));
    assert(
      !dbText.includes(" abandon ") &&
        !/\b[a-z]+ [a-z]+ [a-z]+ [a-z]+ [a-z]+ [a-z]+ [a-z]+ [a-z]+\b/.test(dbText),
      "no plaintext mnemonic left in the database",
    );

    // Closed while blocks arrive: loading catches up from its last block.
    node.mine(1, mine.script);
    await a.sync();
    const before = a.balances();
    await a.close();
    node.mine(2, to.script);
    a = await Wallet.load(`${node.dir}/a`, "a", node.makeChain());
    await a.sync();
    assertEquals(a.tip.height, node.chain.height);
    assert(a.encrypted && a.unlockedUntil === 0, "still encrypted and locked");
    // Two blocks paying b: two of a's coinbases matured meanwhile.
    assertEquals(a.balances(), {
      trusted: before.trusted + 100n * COIN,
      untrustedPending: 0n,
      immature: before.immature - 100n * COIN,
      used: 0n,
    });
  } finally {
    await a.close();
    await b.close();
  }
});

Deno.test("wallet: ECDSA signatures are low-R, as Core grinds them (71 bytes with the hash type)", async () => {
  using node = testNode();
  const a = await Wallet.create(`${node.dir}/a`, "a", node.makeChain());
  try {
    const mine = a.newAddress("wpkh", false);
    node.mine(110, mine.script);
    await a.sync();
    // Ten sends of ten coinbases: without grinding, half the signatures would be 72 bytes.
    const lengths: number[] = [];
    for (let i = 0; i < 10; i++) {
      const { tx } = await sendMoney(a, [{
        script: a.newAddress("wpkh", false).script,
        amount: 49n * COIN,
        subtractFee: false,
      }], 1000n);
      const parsed = Transaction.fromRaw(tx.raw, { allowUnknownOutputs: true });
      for (let input = 0; input < parsed.inputsLength; input++) {
        lengths.push(parsed.getInput(input).finalScriptWitness![0].length);
      }
    }
    assert(lengths.length >= 10, `${lengths.length} inputs`);
    assert(lengths.every((length) => length <= 71), `signature lengths ${lengths}`);
  } finally {
    await a.close();
  }
});

Deno.test("wallet: a lock asked for while a send signs lets the send finish and refuses everyone else, as Core's walletlock and unlock timeout wait for cs_wallet", async () => {
  using node = testNode();
  // The node's own chain, one call of which waits until let through: a send stands half-way.
  let reached = Promise.withResolvers<void>();
  let gate = Promise.withResolvers<void>();
  const served = node.makeChain();
  const chain = new Proxy(served, {
    get(target, name) {
      const value = Reflect.get(target, name);
      if (name !== "relayDustFee") return typeof value === "function" ? value.bind(target) : value;
      return async () => {
        reached.resolve();
        await gate.promise;
        return await target.relayDustFee();
      };
    },
  });
  const a = await Wallet.create(`${node.dir}/a`, "a", chain);
  try {
    const mine = a.newAddress("wpkh", false);
    node.mine(101, mine.script);
    await a.sync();
    await a.encrypt("secret");
    const payee = { script: a.newAddress("tr", false).script, amount: COIN, subtractFee: false };
    // A send half-way when `ask` asks for the lock: it completes, and the wallet locks as it ends.
    const halfway = async (ask: () => Promise<void>, midway = () => {}) => {
      reached = Promise.withResolvers();
      gate = Promise.withResolvers();
      const send = sendMoney(a, [payee], 1000n);
      await reached.promise;
      await ask();
      await new Promise((resolve) => setTimeout(resolve, 50)); // a timer of 0 has fired by now
      // Locked to everyone else at once (Core's callers waiting behind the send find it locked).
      assertEquals(a.unlockedUntil, 0);
      assertEquals(assertThrows(() => a.ensureCanSign(), WalletError).code, -13);
      midway();
      gate.resolve();
      const { tx } = await send;
      assert(node.mempool.has(internalBytes(tx.txid)), "the send completed");
      assertEquals(a.unlockedUntil, 0);
    };
    // walletlock: it answers once locked.
    await a.unlock("secret", 60);
    let walletlock: Promise<void> | undefined;
    let answered = false;
    await halfway(() => {
      walletlock = a.lock().then(() => void (answered = true));
      return Promise.resolve();
    }, () => assert(!answered, "walletlock answered before the send ended"));
    await walletlock;
    assert(answered);
    // The unlock timeout ending mid-send (unlocked again, for no time, once the send is half-way).
    await a.unlock("secret", 60);
    await halfway(() => a.unlock("secret", 0));
    // Locked, a send is refused at once.
    const error = await assertRejects(() => sendMoney(a, [payee], 1000n), WalletError);
    assertEquals(error.code, -13);
  } finally {
    gate.resolve();
    await a.close();
  }
});
