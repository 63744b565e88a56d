/**
 * `fundrawtransaction` end to end, the node and the wallet as their own
 * processes: the raw-transaction workflow bitcoin-cli users follow
 * (createrawtransaction, fundrawtransaction, signrawtransactionwithwallet,
 * sendrawtransaction), the options, preselected inputs, and Core's errors.
 *
 * @module
 */
import { assert, assertEquals } from "../../../assert.ts";
import { startMethodFuzzTarget } from "./method_fuzz.ts";

/**
 * The fee paid for `vsize` at `rate` sat/vB, as Core estimates it: on the
 * size the signed transaction may have (71-byte ECDSA signatures); a
 * signature that came out a byte shorter makes the real size up to a
 * virtual byte smaller per input.
 */
function assertFeeFor(fee: number, vsize: number, rate: number): void {
  const sats = Math.round(fee * 1e8);
  assert(
    sats >= Math.ceil(vsize * rate) && sats <= Math.ceil((vsize + 2) * rate),
    `${sats} sat for ${vsize} vB at ${rate} sat/vB`,
  );
}

/** Sat/vB to BTC/kvB, as fee rates read. */
const satVb = (rate: number) => rate / 100_000;

Deno.test("fundrawtransaction: createrawtransaction, fund, sign with the wallet, send", async () => {
  await using target = await startMethodFuzzTarget();
  const call = async (method: string, params: unknown, path = "/wallet/w") => {
    const reply = await target.node.raw(
      JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
      path,
    );
    return reply.body.error ? { error: reply.body.error } : reply.body.result;
  };
  const to = target.context.addresses[4]; // not the wallet's
  const raw = await call("createrawtransaction", [[], { [to]: 1 }]);
  const send = async (hex: string) => {
    const signed = await call("signrawtransactionwithwallet", [hex]);
    assert(signed.complete, JSON.stringify(signed));
    const txid = await call("sendrawtransaction", [signed.hex]);
    return await call("getmempoolentry", [txid], "/");
  };

  // The wallet's fallback fee (0.0002 BTC/kvB) on the size the signed transaction has.
  const funded = await call("fundrawtransaction", [raw]);
  const decoded = await call("decoderawtransaction", [funded.hex]);
  assertEquals(decoded.vout.length, 2);
  assertEquals(decoded.vout[1 - funded.changepos].value, 1);
  assertEquals(decoded.vout[1 - funded.changepos].scriptPubKey.address, to);
  const change = decoded.vout[funded.changepos].scriptPubKey.address;
  assertEquals((await call("getaddressinfo", [change])).ischange, true);
  assert(decoded.vin.every((input: { sequence: number }) => input.sequence === 0xfffffffd));
  const entry = await send(funded.hex);
  assertEquals(entry.fees.base, funded.fee);
  assertFeeFor(funded.fee, entry.vsize, 20);

  // An explicit rate, the change first, the inputs locked, not replaceable.
  const options = { fee_rate: 7.5, changePosition: 0, lockUnspents: true, replaceable: false };
  const second = await call("fundrawtransaction", [raw, options]);
  assertEquals(second.changepos, 0);
  const inputs = (await call("decoderawtransaction", [second.hex])).vin
    .map((input: { txid: string; vout: number; sequence: number }) => {
      assertEquals(input.sequence, 0xfffffffe);
      return { txid: input.txid, vout: input.vout };
    });
  assertEquals(await call("listlockunspent", []), inputs);
  assertEquals(await call("lockunspent", [true]), true);
  const secondEntry = await send(second.hex);
  assertFeeFor(second.fee, secondEntry.vsize, 7.5);

  // The output pays the fee; feeRate in BTC/kvB.
  const subtract = await call("fundrawtransaction", [raw, {
    subtractFeeFromOutputs: [0],
    feeRate: satVb(3),
  }]);
  // (A confirmed coin of 1 BTC pays it alone, with no change; else change comes back.)
  const paid = (await call("decoderawtransaction", [subtract.hex])).vout
    .find((o: { scriptPubKey: { address: string } }) => o.scriptPubKey.address === to);
  assertEquals(Math.round(paid.value * 1e8), 100_000_000 - Math.round(subtract.fee * 1e8));

  // A preselected coin of the wallet: kept, alone when add_inputs is false.
  const [coin] = await call("listunspent", []);
  const preset = await call("createrawtransaction", [
    [{ txid: coin.txid, vout: coin.vout }],
    { [to]: 0.5 },
  ]);
  const alone = await call("fundrawtransaction", [preset, { add_inputs: false, fee_rate: 1 }]);
  assertEquals(
    (await call("decoderawtransaction", [alone.hex])).vin.map((i: { txid: string }) => i.txid),
    [coin.txid],
  );
  // A preselected input already signed keeps its witness (to be signed again, as Core says).
  const signedAlone = (await call("signrawtransactionwithwallet", [alone.hex])).hex;
  const witness = (await call("decoderawtransaction", [signedAlone])).vin[0].txinwitness;
  assert(witness.length > 0, "signed");
  const refunded = await call("fundrawtransaction", [signedAlone, { fee_rate: 1 }]);
  assertEquals((await call("decoderawtransaction", [refunded.hex])).vin[0].txinwitness, witness);
  const tooMuch = await call("createrawtransaction", [
    [{ txid: coin.txid, vout: coin.vout }],
    { [to]: coin.amount + 1 },
  ]);
  assertEquals((await call("fundrawtransaction", [tooMuch, { add_inputs: false }])).error, {
    code: -4,
    message:
      "The preselected coins total amount does not cover the transaction target. Please allow other inputs to be automatically selected or include more coins manually",
  });
  const more = await call("fundrawtransaction", [tooMuch]);
  assertEquals((await call("decoderawtransaction", [more.hex])).vin[0].txid, coin.txid);
  assert((await call("decoderawtransaction", [more.hex])).vin.length > 1);

  // Inputs that are not the wallet's: unknown, or in the UTXO set without solving data.
  const unknown = await call("createrawtransaction", [[{ txid: "11".repeat(32), vout: 0 }], {
    [to]: 1,
  }]);
  assertEquals((await call("fundrawtransaction", [unknown])).error, {
    code: -4,
    message: "Unable to find UTXO for external input",
  });
  const [foreignBlock] = await call("generatetoaddress", [1, to], "/");
  const foreign = (await call("getblock", [foreignBlock], "/")).tx[0];
  const external = await call("createrawtransaction", [[{ txid: foreign, vout: 0 }], { [to]: 1 }]);
  assertEquals((await call("fundrawtransaction", [external])).error, {
    code: -4,
    message: `Not solvable pre-selected input COutPoint(${foreign.slice(0, 10)}, 0)`,
  });

  // Core's refusals of the arguments.
  const refusals: [unknown, number, string][] = [
    [["zz"], -22, "TX decode failed"],
    [
      [raw, { fee_rate: 1, feeRate: 0.0001 }],
      -8,
      "Cannot specify both fee_rate (sat/vB) and feeRate (BTC/kvB)",
    ],
    [
      [raw, { fee_rate: 1, conf_target: 2 }],
      -8,
      "Cannot specify both conf_target and fee_rate. Please provide either a confirmation target in blocks for automatic fee estimation, or an explicit fee rate.",
    ],
    [[raw, { changePosition: 2 }], -8, "changePosition out of bounds"],
    [[raw, { changeAddress: "nope" }], -5, "Change address must be a valid bitcoin address"],
    [
      [raw, { changeAddress: to, change_type: "bech32" }],
      -8,
      "Cannot specify both change address and address type options",
    ],
    [[raw, { change_type: "p2tr" }], -5, "Unknown change type 'p2tr'"],
    [
      [raw, { subtractFeeFromOutputs: [1] }],
      -8,
      "Invalid parameter 'subtract fee from output', position too large: 1",
    ],
    [
      [raw, { subtractFeeFromOutputs: [0, 0] }],
      -8,
      "Invalid parameter 'subtract fee from output', duplicated position: 0",
    ],
    [
      [raw, { estimate_mode: "fast" }],
      -8,
      'Invalid estimate_mode parameter, must be one of: "unset", "economical", "conservative"',
    ],
    [[raw, { conf_target: 1009 }], -8, "Invalid conf_target, must be between 1 and 1008"],
    [[raw, { minconf: -1 }], -8, "Negative minconf"],
    [[raw, { minconf: 2, maxconf: 1 }], -8, "maxconf can't be lower than minconf: 1 < 2"],
    [
      [raw, { lockUnspents: 1 }],
      -3,
      "JSON value of type number for field lockUnspents is not of expected type bool",
    ],
    [[raw, { unknown: 1 }], -3, "Unexpected key unknown"],
    [[raw, { solving_data: {} }], -8, "solving_data is not supported by this node's wallet"],
    [[await call("createrawtransaction", [[], { [to]: 1_000_000 }])], -4, "Insufficient funds"],
  ];
  for (const [params, code, message] of refusals) {
    assertEquals((await call("fundrawtransaction", params)).error, { code, message }, message);
  }
  // Named: the options' fields may be given as named arguments of their own.
  const named = await call("fundrawtransaction", {
    hexstring: raw,
    fee_rate: 2,
    changePosition: 1,
  });
  assertEquals(named.changepos, 1);
  // The same checks serve estimatesmartfee.
  assertEquals((await call("estimatesmartfee", [0], "/")).error, {
    code: -8,
    message: "Invalid conf_target, must be between 1 and 1008",
  });
  assertEquals(await target.health(), null);
});

Deno.test("settxfee: -32 as v30 answers it; with -deprecatedrpc=settxfee Core's checks, and sends pay the rate", async () => {
  const deprecated = {
    code: -32,
    message: "settxfee is deprecated and will be fully removed in v31.0.\n" +
      "To use settxfee restart bitcoind with -deprecatedrpc=settxfee.",
  };
  {
    await using target = await startMethodFuzzTarget();
    const reply = await target.node.raw(
      '{"id":1,"method":"settxfee","params":[0.0001]}',
      "/wallet/w",
    );
    assertEquals(reply.body.error, deprecated);
    // The wallet is looked for first, as Core does.
    const missing = await target.node.raw('{"id":1,"method":"settxfee","params":[1]}', "/wallet/x");
    assertEquals(missing.body.error.code, -18);
  }
  await using target = await startMethodFuzzTarget(["-deprecatedrpc=settxfee"]);
  const call = target.walletCall;
  // Below the node's relay floor (v30: 100 sat/kvB), then below the wallet's -mintxfee (1000).
  assertEquals(await call("settxfee", [0.0000009]), {
    error: { code: -8, message: "txfee cannot be less than min relay tx fee (0.00000100 BTC/kvB)" },
  });
  assertEquals(await call("settxfee", [0.000009]), {
    error: { code: -8, message: "txfee cannot be less than wallet min fee (0.00001000 BTC/kvB)" },
  });
  assertEquals(await call("settxfee", [0.11]), {
    error: {
      code: -8,
      message: "txfee cannot be more than wallet max tx fee (0.10000000 BTC/kvB)",
    },
  });
  assertEquals((await call("settxfee", [-1])).error.code, -3);
  assertEquals(await call("settxfee", [0.0005]), true);
  assertEquals((await call("getwalletinfo", [])).paytxfee, 0.0005);
  // A send without a rate pays it (50 sat/vB), not the fallback fee (20).
  const sent = await call("sendtoaddress", {
    address: target.context.addresses[4],
    amount: 1,
    verbose: true,
  });
  assertEquals(sent.fee_reason, "PayTxFee set");
  const entry = await target.node.call("getmempoolentry", [sent.txid]);
  assertFeeFor(entry.fees.base, entry.vsize, 50);
  const raw = await call("createrawtransaction", [[], { [target.context.addresses[4]]: 1 }]);
  const funded = await call("fundrawtransaction", [raw]);
  // 50 sat/vB on its 140-odd vB is more than 5,000 sat; the fallback rate (20) would pay less.
  assert(funded.fee > satVb(50) * 0.1, JSON.stringify(funded));
  // 0 goes back to the automatic choice (the fallback fee here).
  assertEquals(await call("settxfee", [0]), true);
  assertEquals((await call("getwalletinfo", [])).paytxfee, 0);
  const again = await call("sendtoaddress", {
    address: target.context.addresses[4],
    amount: 1,
    verbose: true,
  });
  assertEquals(again.fee_reason, "Fallback fee");
});
