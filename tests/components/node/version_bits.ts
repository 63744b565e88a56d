/**
 * Blocks signalling version bits, mined on a running node as Core's
 * `feature_versionbits_warning.py` mines them: the node builds each block
 * (`generateblock` without submitting), the test sets its version, solves
 * it again and submits it (`submitblock`). With regtest's 144-block
 * periods, an unknown bit signalled by 108 blocks of the period 144–287 is
 * locked in at 288 and active at 432.
 *
 * @module
 */
import { hex } from "@scure/base";
import { decodeBlock, encodeBlock, solveBlock } from "../../../components/node/chain/mod.ts";
import { assert, assertEquals } from "../../assert.ts";

/** The bit Core's `feature_versionbits_warning.py` signals (`VB_UNKNOWN_BIT`). */
export const UNKNOWN_BIT = 27;
/** testdummy's bit: expected while testdummy is started or locked in. */
export const TESTDUMMY_BIT = 28;
/** A version signalling the unknown bit and testdummy's. */
export const SIGNALLING_VERSION = (0x20000000 | (1 << UNKNOWN_BIT) | (1 << TESTDUMMY_BIT)) >>> 0;
/** The last block of the period whose signalling locks the bit in. */
export const LOCK_IN_HEIGHT = 287;
/** The last block before the bit is active (its child's state is active). */
export const ACTIVATION_HEIGHT = 431;
/** Core's warning for the unknown bit. */
export const UNKNOWN_BIT_WARNING = `Unknown new rules activated (versionbit ${UNKNOWN_BIT})`;

/** An RPC call on a node. */
export type Call = (method: string, params?: unknown[]) => Promise<unknown>;

/** Mines `count` blocks of version `version` paying `address`, each submitted. */
export async function mineVersion(
  call: Call,
  address: string,
  count: number,
  version: number,
): Promise<void> {
  for (let i = 0; i < count; i++) {
    const built = await call("generateblock", [address, [], false]) as { hex: string };
    const block = decodeBlock(hex.decode(built.hex));
    block.header.version = version;
    block.header.nonce = 0;
    assert(solveBlock(block));
    assertEquals(await call("submitblock", [hex.encode(encodeBlock(block))]), null);
  }
}

/**
 * From a chain of height 143 or less: mines to {@linkcode LOCK_IN_HEIGHT},
 * the first 108 blocks of the period 144–287 signalling the unknown bit
 * and testdummy's ({@linkcode SIGNALLING_VERSION}).
 */
export async function signalUnknownBit(call: Call, address: string): Promise<void> {
  const height = await call("getblockcount") as number;
  await call("generatetoaddress", [143 - height, address]);
  await mineVersion(call, address, 108, SIGNALLING_VERSION);
  await call("generatetoaddress", [LOCK_IN_HEIGHT - 143 - 108, address]);
}
