/**
 * The node's network state in one process: the ban list (`BanMan`: Core's
 * IsBanned, Ban, Unban, sweeping, order, `banlist.json` written and read as
 * Core writes and reads it, its bound) and the connection manager's
 * `addnode` list (`Connman`: Core's duplicate rule, its bound).
 */
import { existsSync } from "node:fs";
import { assert, assertEquals, assertThrows } from "../../../assert.ts";
import { tempDir } from "../../../helpers.ts";
import { parseIp, Subnet } from "../../../../components/rpc/subnet.ts";
import {
  ADDED_NODES_FULL,
  BAN_LIST_FULL,
  BanMan,
  Connman,
  MAX_ADDED_NODES,
  MAX_BANNED,
  MAX_NODE_LENGTH,
  NODE_TOO_LONG,
} from "../../../../components/node/net/mod.ts";

const T0 = 1_700_000_000;
const net = (text: string) => Subnet.parse(text)!;

/** The bans as `[address, created, until]`. */
function listed(banman: BanMan): [string, number, number][] {
  return banman.banned().map((e) => [e.subnet.toString(), Number(e.created), Number(e.until)]);
}

Deno.test("BanMan: an IP is banned by any subnet holding it, a subnet only by its own ban", () => {
  const banman = new BanMan({ now: () => T0 });
  banman.ban(net("10.1.0.0/16"), 100n, false);
  assert(banman.isBanned(parseIp("10.1.2.3")!));
  assert(!banman.isBanned(parseIp("10.2.0.1")!));
  assert(banman.isBanned(net("10.1.0.0/16")));
  assert(!banman.isBanned(net("10.1.2.0/24")), "a smaller subnet is not banned itself");
  assert(!banman.isBanned(parseIp("::ffff:10.2.0.1")!));
});

Deno.test("BanMan: default, relative, absolute and saturated end times; longer bans replace", () => {
  let now = T0;
  const banman = new BanMan({ now: () => now, defaultBanTime: 600 });
  banman.ban(net("1.1.1.1"), 0n, false);
  banman.ban(net("2.2.2.2"), -5n, true); // 0 or less: the default, from now
  banman.ban(net("3.3.3.3"), 60n, false);
  banman.ban(net("4.4.4.4"), BigInt(T0 + 5000), true);
  banman.ban(net("5.5.5.5"), 2n ** 63n - 1n, false); // Core's sum overflows; held at the largest
  assertEquals(listed(banman).slice(0, 4), [
    ["1.1.1.1/32", T0, T0 + 600],
    ["2.2.2.2/32", T0, T0 + 600],
    ["3.3.3.3/32", T0, T0 + 60],
    ["4.4.4.4/32", T0, T0 + 5000],
  ]);
  assertEquals(banman.banned()[4].until, 2n ** 63n - 1n);
  now += 10;
  banman.ban(net("3.3.3.3"), 30n, false); // ends earlier than the ban in force: kept
  banman.ban(net("1.1.1.1"), 6000n, false); // ends later: replaced, created anew
  assertEquals(listed(banman).slice(0, 3), [
    ["1.1.1.1/32", T0 + 10, T0 + 6010],
    ["2.2.2.2/32", T0, T0 + 600],
    ["3.3.3.3/32", T0, T0 + 60],
  ]);
});

Deno.test("BanMan: expired bans stop applying at their end and are swept after it", () => {
  let now = T0;
  const banman = new BanMan({ now: () => now });
  banman.ban(net("7.7.7.7"), 5n, false);
  now = T0 + 5; // Core: banned while now < until, listed while now <= until
  assert(!banman.isBanned(parseIp("7.7.7.7")!));
  assertEquals(banman.banned().length, 1);
  now = T0 + 6;
  assertEquals(banman.banned(), []);
  assertEquals(banman.size, 0);
});

Deno.test("BanMan: unban needs the exact subnet; clear empties; Core's map order", () => {
  const banman = new BanMan({ now: () => T0 });
  for (const s of ["::1", "10.0.0.0/8", "9.9.9.9", "10.0.0.0/16", "2001:db8::/32", "10.0.0.0/9"]) {
    banman.ban(net(s), 100n, false);
  }
  // IPv4 before IPv6, then by network bytes, then by mask bytes.
  assertEquals(listed(banman).map(([a]) => a), [
    "9.9.9.9/32",
    "10.0.0.0/8",
    "10.0.0.0/9",
    "10.0.0.0/16",
    "::1/128",
    "2001:db8::/32",
  ]);
  assert(!banman.unban(net("10.1.0.0/16")));
  assert(banman.unban(net("10.0.0.0/16")));
  assert(!banman.unban(net("10.0.0.0/16")));
  banman.clear();
  assertEquals(banman.banned(), []);
});

Deno.test("BanMan: banlist.json in Core's format, written on change, read back", () => {
  using temp = tempDir("banman_");
  const file = `${temp.path}/banlist.json`;
  const log: string[] = [];
  let now = T0;
  const banman = new BanMan({ file, now: () => now, log: (m) => log.push(m) });
  // A missing file is recreated empty, as Core's LoadBanlist + DumpBanlist.
  assertEquals(log, ["Recreating the banlist database"]);
  assertEquals(Deno.readTextFileSync(file), '{\n    "banned_nets": [\n    ]\n}\n');
  banman.ban(net("192.168.0.0/255.255.255.0"), 0n, false);
  banman.ban(net("fe80::1"), 10n, false);
  assertEquals(
    Deno.readTextFileSync(file),
    `{
    "banned_nets": [
        {
            "version": 1,
            "ban_created": ${T0},
            "banned_until": ${T0 + 86400},
            "address": "192.168.0.0/24"
        },
        {
            "version": 1,
            "ban_created": ${T0},
            "banned_until": ${T0 + 10},
            "address": "fe80::1/128"
        }
    ]
}
`,
  );
  now += 20; // the IPv6 ban has ended: swept when read back, and the file rewritten
  const reread = new BanMan({ file, now: () => now });
  assertEquals(listed(reread), [["192.168.0.0/24", T0, T0 + 86400]]);
  assert(!Deno.readTextFileSync(file).includes("fe80"));
  assert(!existsSync(`${file}.new`));
});

Deno.test("BanMan: Core's reading of banlist.json: dropped entries, refused files", () => {
  using temp = tempDir("banman_");
  const file = `${temp.path}/banlist.json`;
  const read = (text: string) => {
    Deno.writeTextFileSync(file, text);
    const log: string[] = [];
    const banman = new BanMan({ file, now: () => T0, log: (m) => log.push(m) });
    return { bans: listed(banman), log };
  };
  const entry = (address: unknown, version = 1, until = T0 + 50) =>
    JSON.stringify({ version, ban_created: T0, banned_until: until, address });
  assertEquals(
    read(
      `{"banned_nets":[${entry("1.2.3.4")},${entry("1.2.3.5", 2)},${entry("nonsense")},${
        entry("1.2.3.4", 1, T0 + 99)
      }]}`,
    ),
    {
      bans: [["1.2.3.4/32", T0, T0 + 99]], // a later entry for the same subnet replaces
      log: [
        "Dropping entry with unknown version (2) from ban list",
        "Dropping entry with unparseable address or subnet (nonsense) from ban list",
      ],
    },
  );
  const refused = (text: string, reason: string) => {
    assertEquals(read(text), { bans: [], log: [reason, "Recreating the banlist database"] });
    assertEquals(Deno.readTextFileSync(file), '{\n    "banned_nets": [\n    ]\n}\n');
  };
  refused(
    "{not json",
    `Cannot load banlist ${file}: Settings file ${file} does not contain valid JSON. This is ` +
      "probably caused by disk corruption or a crash, and can be fixed by removing the file, " +
      "which will reset settings to default values.",
  );
  refused(
    "[1]",
    `Cannot load banlist ${file}: Found non-object value [1] in settings file ${file}`,
  );
  refused(
    '{"a":1,"a":2}',
    `Cannot load banlist ${file}: Found duplicate key a in settings file ${file}`,
  );
  refused(
    "{}",
    `Cannot parse banlist ${file}: JSON value is not an object or array as expected`,
  );
  refused(
    `{"banned_nets":[${entry(7)}]}`,
    `Cannot parse banlist ${file}: JSON value of type number is not of expected type string`,
  );
  refused(
    '{"banned_nets":[{"version":1,"address":"1.2.3.4"}]}',
    `Cannot parse banlist ${file}: JSON value of type null is not of expected type number`,
  );
});

Deno.test("BanMan: bounded at MAX_BANNED bans (not Core's limit)", () => {
  let now = T0;
  const banman = new BanMan({ now: () => now });
  for (let i = 0; i < MAX_BANNED; i++) {
    banman.ban(
      Subnet.fromPrefix(new Uint8Array([10, i >> 16, (i >> 8) & 0xff, i & 0xff]), 32),
      10n,
      false,
    );
  }
  assertThrows(() => banman.ban(net("11.0.0.1"), 10n, false), Error, BAN_LIST_FULL);
  banman.ban(net("10.0.0.0/32"), 100n, false); // an existing ban may still be lengthened
  assert(banman.unban(net("10.0.0.1")));
  banman.ban(net("11.0.0.1"), 10n, false);
  now += 11; // ended bans make room
  banman.ban(net("11.0.0.2"), 10n, false);
  assertEquals(banman.banned().length, 2);
});

Deno.test("Connman: duplicates by text or by numeric address and port; remove by text", () => {
  const log: string[] = [];
  const connman = new Connman({ log: (m) => log.push(m) });
  assert(connman.addNode("127.0.0.1", false));
  assert(!connman.addNode("127.0.0.1", true));
  assert(!connman.addNode("127.0.0.1:18444", false), "the default port: the same node");
  assert(!connman.addNode("[::ffff:127.0.0.1]:18444", false), "IPv4-mapped: the same node");
  assert(connman.addNode("127.0.0.1:18445", false));
  assert(connman.addNode("[::1]", false));
  assert(!connman.addNode("::1", false));
  assert(connman.addNode("localhost", true));
  assert(!connman.addNode("localhost", false));
  assert(connman.addNode("0.0.0.0", false));
  assert(connman.addNode("0.0.0.0:18444", false), "an invalid address is compared as text only");
  assertEquals(connman.addedNodes(), [
    { node: "127.0.0.1", v2transport: false },
    { node: "127.0.0.1:18445", v2transport: false },
    { node: "[::1]", v2transport: false },
    { node: "localhost", v2transport: true },
    { node: "0.0.0.0", v2transport: false },
    { node: "0.0.0.0:18444", v2transport: false },
  ]);
  assert(!connman.removeAddedNode("127.0.0.1:18444"));
  assert(connman.removeAddedNode("127.0.0.1"));
  assert(!connman.removeAddedNode("127.0.0.1"));
  assert(connman.networkActive);
  connman.setNetworkActive(false);
  connman.setNetworkActive(false);
  assert(!connman.networkActive);
  assertEquals(log, ["SetNetworkActive: false", "SetNetworkActive: false"]);
});

Deno.test("Connman: bounded at MAX_ADDED_NODES nodes (not Core's limit)", () => {
  const connman = new Connman();
  for (let i = 0; i < MAX_ADDED_NODES; i++) assert(connman.addNode(`node${i}`, false));
  assertThrows(() => connman.addNode("one more", false), Error, ADDED_NODES_FULL);
  assertThrows(() => connman.addNode("x".repeat(MAX_NODE_LENGTH + 1), false), Error, NODE_TOO_LONG);
  assert(!connman.addNode("node7", false), "a duplicate is still a duplicate");
  assert(connman.removeAddedNode("node7"));
  assert(connman.addNode("one more", false));
});
