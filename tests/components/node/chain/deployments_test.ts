/**
 * Version bits as `getdeploymentinfo` reports them, over a real chain whose
 * blocks signal: testdummy (bit 28, 108 of 144) goes defined → started →
 * locked_in → active with Core's `since` heights and statistics, while
 * taproot is active from genesis; and Core's `CheckUnknownActivations`
 * over the same machine: an unknown bit (27) locks in and activates, the
 * expected testdummy bit raises nothing.
 *
 * @module
 */
import {
  bip9Info,
  REGTEST_BIP9,
  UnknownActivations,
} from "../../../../components/node/chain/mod.ts";
import { assertEquals } from "../../../assert.ts";
import { craftBlock, openTempChain, TestKey } from "./chain_helpers.ts";

const key = new TestKey(13);
const testdummy = REGTEST_BIP9.find((d) => d.name === "testdummy")!;
const taproot = REGTEST_BIP9.find((d) => d.name === "taproot")!;

Deno.test("version bits: testdummy signalled through lock-in to activation", () => {
  using chain = openTempChain();
  const mineTo = (height: number, signal: (h: number) => boolean) => {
    while (chain.height < height) {
      const next = chain.height + 1;
      const block = craftBlock(chain, key, {
        edit: (b) => {
          b.header.version = signal(next) ? 0x30000000 : 0x20000000;
        },
      });
      assertEquals(chain.processBlock(block), null);
    }
  };
  const at = (height: number) => bip9Info(chain, chain.entryAtHeight(height)!, testdummy);
  mineTo(143, () => false);
  assertEquals(at(100), {
    current: "defined",
    next: "defined",
    since: 0,
    stats: undefined,
    activeSince: undefined,
  });
  assertEquals([at(143).current, at(143).next], ["defined", "started"]);
  // Period 144–287: the first 108 blocks signal.
  mineTo(287, (h) => h < 144 + 108);
  const started = at(200);
  assertEquals([started.current, started.since, started.next], ["started", 144, "started"]);
  assertEquals(started.stats?.count, 57);
  assertEquals(started.stats?.elapsed, 57);
  assertEquals(started.stats?.signalling.every((s) => s), true);
  const lastOfPeriod = at(287);
  assertEquals([lastOfPeriod.current, lastOfPeriod.next], ["started", "locked_in"]);
  assertEquals(lastOfPeriod.stats?.count, 108);
  assertEquals(lastOfPeriod.stats?.possible, true);
  mineTo(432, () => false);
  const locked = at(300);
  assertEquals([locked.current, locked.since], ["locked_in", 288]);
  assertEquals([locked.stats?.threshold, locked.stats?.possible], [0, false]);
  assertEquals([at(431).next, at(431).activeSince], ["active", 432]);
  const active = at(432);
  assertEquals([active.current, active.since, active.activeSince, active.stats], [
    "active",
    432,
    432,
    undefined,
  ]);
  assertEquals(bip9Info(chain, chain.entryAtHeight(0)!, taproot).activeSince, 0);
});

Deno.test("version bits: a period short of the threshold stays started", () => {
  using chain = openTempChain();
  while (chain.height < 300) {
    const next = chain.height + 1;
    const block = craftBlock(chain, key, {
      edit: (b) => {
        b.header.version = next >= 144 && next < 144 + 107 ? 0x30000000 : 0x20000000;
      },
    });
    assertEquals(chain.processBlock(block), null);
  }
  const info = bip9Info(chain, chain.tip, testdummy);
  assertEquals([info.current, info.since, info.next], ["started", 144, "started"]);
  assertEquals([info.stats?.elapsed, info.stats?.count], [13, 0]);
  // 107 of 144 signalled in the last full period: one short.
  assertEquals(bip9Info(chain, chain.entryAtHeight(287)!, testdummy).next, "started");
});

Deno.test("version bits: an unknown bit signalled locks in then activates, testdummy's bit 28 while started counts for nothing (CheckUnknownActivations)", () => {
  using chain = openTempChain();
  const unknown = new UnknownActivations(chain);
  const mineTo = (height: number, version: (h: number) => number) => {
    while (chain.height < height) {
      const next = chain.height + 1;
      const block = craftBlock(chain, key, {
        edit: (b) => void (b.header.version = version(next)),
      });
      assertEquals(chain.processBlock(block), null);
    }
  };
  const at = (height: number) => unknown.check(chain.entryAtHeight(height)!);
  // Bit 27 and testdummy's 28 in the first 108 blocks of the period 144–287 (Core's
  // feature_versionbits_warning.py signals 27): testdummy was started then, so 28 was expected.
  const both = (0x20000000 | (1 << 27) | (1 << 28)) >>> 0;
  mineTo(143, () => 0x20000000);
  mineTo(287, (h) => h < 144 + 108 ? both : 0x20000000);
  assertEquals(at(286), []);
  assertEquals(at(287), [{ bit: 27, active: false }]);
  mineTo(431, () => 0x20000000);
  assertEquals(at(430), [{ bit: 27, active: false }]);
  assertEquals(at(431), [{ bit: 27, active: true }]);
  assertEquals(bip9Info(chain, chain.tip, testdummy).next, "active");
});
