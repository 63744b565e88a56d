/**
 * The network methods a node without peers keeps as Bitcoin Core v30 does,
 * against real node processes over HTTP (`-rpcdoccheck`: every result is
 * checked against its documented shape): setban, listbanned and
 * clearbanned (Core's validation, codes and messages, default and absolute
 * times, expiry, `banlist.json` in Core's format across a restart, the
 * list's bound), addnode and getaddednodeinfo, disconnectnode,
 * getnodeaddresses, getaddrmaninfo, setnetworkactive with getnetworkinfo's
 * `networkactive`; and each method's help text, Core's word for word.
 *
 * @module
 */
import { assert, assertEquals } from "../../../assert.ts";
import { tempDir, waitFor } from "../../../helpers.ts";
import { type RealNode, rejects, startRealNode } from "../real_node.ts";
import { BAN_LIST_FULL, MAX_BANNED } from "../../../../components/node/net/mod.ts";

const DAY = 86400;

/** Core's `HelpExampleRpc` line. */
function curl(method: string, params: string): string {
  return `> curl --user myusername --data-binary '{"jsonrpc": "2.0", "id": "curltest", ` +
    `"method": "${method}", "params": [${params}]}' -H 'content-type: application/json' ` +
    "http://127.0.0.1:8332/\n";
}

/** Bitcoin Core v30.0's `help <method>` texts. */
const HELP: Record<string, string> = {
  setban: `setban "subnet" "command" ( bantime absolute )

Attempts to add or remove an IP/Subnet from the banned list.

Arguments:
1. subnet      (string, required) The IP/Subnet (see getpeerinfo for nodes IP) with an optional netmask (default is /32 = single IP)
2. command     (string, required) 'add' to add an IP/Subnet to the list, 'remove' to remove an IP/Subnet from the list
3. bantime     (numeric, optional, default=0) time in seconds how long (or until when if [absolute] is set) the IP is banned (0 or empty means using the default time of 24h which can also be overwritten by the -bantime startup argument)
4. absolute    (boolean, optional, default=false) If set, the bantime must be an absolute timestamp expressed in UNIX epoch time

Result:
null    (json null)

Examples:
> bitcoin-cli setban "192.168.0.6" "add" 86400
> bitcoin-cli setban "192.168.0.0/24" "add"
${curl("setban", '"192.168.0.6", "add", 86400')}`,
  listbanned: `listbanned

List all manually banned IPs/Subnets.

Result:
[                              (json array)
  {                            (json object)
    "address" : "str",         (string) The IP/Subnet of the banned node
    "ban_created" : xxx,       (numeric) The UNIX epoch time the ban was created
    "banned_until" : xxx,      (numeric) The UNIX epoch time the ban expires
    "ban_duration" : xxx,      (numeric) The ban duration, in seconds
    "time_remaining" : xxx     (numeric) The time remaining until the ban expires, in seconds
  },
  ...
]

Examples:
> bitcoin-cli listbanned 
${curl("listbanned", "")}`,
  clearbanned: `clearbanned

Clear all banned IPs.

Result:
null    (json null)

Examples:
> bitcoin-cli clearbanned 
${curl("clearbanned", "")}`,
  addnode: `addnode "node" "command" ( v2transport )

Attempts to add or remove a node from the addnode list.
Or try a connection to a node once.
Nodes added using addnode (or -connect) are protected from DoS disconnection and are not required to be
full nodes/support SegWit as other outbound peers are (though such peers will not be synced from).
Addnode connections are limited to 8 at a time and are counted separately from the -maxconnections limit.

Arguments:
1. node           (string, required) The IP address/hostname optionally followed by :port of the peer to connect to
2. command        (string, required) 'add' to add a node to the list, 'remove' to remove a node from the list, 'onetry' to try a connection to the node once
3. v2transport    (boolean, optional, default=set by -v2transport) Attempt to connect using BIP324 v2 transport protocol (ignored for 'remove' command)

Result:
null    (json null)

Examples:
> bitcoin-cli addnode "192.168.0.6:8333" "onetry" true
${curl("addnode", '"192.168.0.6:8333", "onetry" true')}`,
  disconnectnode: `disconnectnode ( "address" nodeid )

Immediately disconnects from the specified peer node.

Strictly one out of 'address' and 'nodeid' can be provided to identify the node.

To disconnect by nodeid, either set 'address' to the empty string, or call using the named 'nodeid' argument only.

Arguments:
1. address    (string, optional, default=fallback to nodeid) The IP address/port of the node
2. nodeid     (numeric, optional, default=fallback to address) The node ID (see getpeerinfo for node IDs)

Result:
null    (json null)

Examples:
> bitcoin-cli disconnectnode "192.168.0.6:8333"
> bitcoin-cli disconnectnode "" 1
${curl("disconnectnode", '"192.168.0.6:8333"')}${curl("disconnectnode", '"", 1')}`,
  setnetworkactive: `setnetworkactive state

Disable/enable all p2p network activity.

Arguments:
1. state    (boolean, required) true to enable networking, false to disable

Result:
true|false    (boolean) The value that was passed in
`,
  getnodeaddresses: `getnodeaddresses ( count "network" )

Return known addresses, after filtering for quality and recency.
These can potentially be used to find new peers in the network.
The total number of addresses known to the node may be higher.

Arguments:
1. count      (numeric, optional, default=1) The maximum number of addresses to return. Specify 0 to return all known addresses.
2. network    (string, optional, default=all networks) Return only addresses of the specified network. Can be one of: ipv4, ipv6, onion, i2p, cjdns.

Result:
[                         (json array)
  {                       (json object)
    "time" : xxx,         (numeric) The UNIX epoch time when the node was last seen
    "services" : n,       (numeric) The services offered by the node
    "address" : "str",    (string) The address of the node
    "port" : n,           (numeric) The port number of the node
    "network" : "str"     (string) The network (ipv4, ipv6, onion, i2p, cjdns) the node connected through
  },
  ...
]

Examples:
> bitcoin-cli getnodeaddresses 8
> bitcoin-cli getnodeaddresses 4 "i2p"
> bitcoin-cli -named getnodeaddresses network=onion count=12
${curl("getnodeaddresses", "8")}${curl("getnodeaddresses", '4, "i2p"')}`,
  getaddrmaninfo: `getaddrmaninfo

Provides information about the node's address manager by returning the number of addresses in the \`new\` and \`tried\` tables and their sum for all networks.

Result:
{                   (json object) json object with network type as keys
  "network" : {     (json object) the network (ipv4, ipv6, onion, i2p, cjdns, all_networks)
    "new" : n,      (numeric) number of addresses in the new table, which represent potential peers the node has discovered but hasn't yet successfully connected to.
    "tried" : n,    (numeric) number of addresses in the tried table, which represent peers the node has successfully connected to in the past.
    "total" : n     (numeric) total number of addresses in both new/tried tables
  },
  ...
}

Examples:
> bitcoin-cli getaddrmaninfo 
${curl("getaddrmaninfo", "")}`,
};

/** The help text as an argument error carries it (Core's `ToString`). */
const helpError = (method: string) => HELP[method];

/** The node's clock, read from a ban it just made (`ban_created`). */
async function nodeNow(call: RealNode["call"]): Promise<number> {
  await call("setban", ["198.51.100.255", "add"]);
  const entry = (await call("listbanned")).find((e: { address: string }) =>
    e.address === "198.51.100.255/32"
  );
  await call("setban", ["198.51.100.255", "remove"]);
  return entry.ban_created;
}

/** `banlist.json` as Core writes it (UniValue indented by 4, then a newline). */
function banlistText(entries: [string, number | bigint, number | bigint][]): string {
  if (entries.length === 0) return '{\n    "banned_nets": [\n    ]\n}\n';
  const items = entries.map(([address, created, until]) =>
    `        {\n            "version": 1,\n            "ban_created": ${created},\n` +
    `            "banned_until": ${until},\n            "address": "${address}"\n        }`
  );
  return `{\n    "banned_nets": [\n${items.join(",\n")}\n    ]\n}\n`;
}

Deno.test("network methods: Core v30's help texts, word for word", async () => {
  await using node = await startRealNode({ args: ["-rpcdoccheck"] });
  for (const [method, text] of Object.entries(HELP)) {
    assertEquals(await node.call("help", [method]), text, method);
  }
  const listing: string = await node.call("help");
  const network = listing.slice(listing.indexOf("== Network =="), listing.indexOf("\n\n== R"));
  assertEquals(network.split("\n"), [
    "== Network ==",
    'addnode "node" "command" ( v2transport )',
    "clearbanned",
    'disconnectnode ( "address" nodeid )',
    'getaddednodeinfo ( "node" )',
    "getaddrmaninfo",
    "getconnectioncount",
    "getnettotals",
    "getnetworkinfo",
    'getnodeaddresses ( count "network" )',
    "getpeerinfo",
    "listbanned",
    "ping",
    'setban "subnet" "command" ( bantime absolute )',
    "setnetworkactive state",
  ]);
});

Deno.test("setban, listbanned, clearbanned: Core's ban list, checks, errors and expiry", async (t) => {
  await using node = await startRealNode({ args: ["-rpcdoccheck"] });
  const call = node.call;
  const now = await nodeNow(call);
  const listed = async () =>
    (await call("listbanned")).map((e: Record<string, number | string>) => [
      e.address,
      e.ban_created,
      e.banned_until,
    ]);

  await t.step("add: an IP as /32 or /128, CIDR and netmask subnets, Core's forms", async () => {
    assertEquals(await call("listbanned"), []);
    assertEquals(await call("setban", ["192.168.0.6", "add"]), null);
    const [entry] = await call("listbanned");
    assertEquals(Object.keys(entry), [
      "address",
      "ban_created",
      "banned_until",
      "ban_duration",
      "time_remaining",
    ]);
    assertEquals(entry.address, "192.168.0.6/32");
    assert(entry.ban_created >= now && entry.ban_created <= now + 5, `${entry.ban_created}`);
    assertEquals(entry.banned_until - entry.ban_created, DAY, "-bantime's default: 24 hours");
    assertEquals(entry.ban_duration, DAY);
    assert(entry.time_remaining <= DAY && entry.time_remaining >= DAY - 5);
    await call("setban", ["10.9.8.7/255.255.0.0", "add", 3600]);
    await call("setban", { subnet: "2001:DB8:0:0:1::1/64", command: "add", bantime: 60 });
    await call("setban", ["[::1]", "add", -5]); // 0 or less: the default time
    await call("setban", ["fe80::1:2/128", "add"]);
    const bans = await call("listbanned");
    // Core's map order: IPv4 before IPv6, then by address bytes.
    assertEquals(bans.map((e: { address: string }) => e.address), [
      "10.9.0.0/16",
      "192.168.0.6/32",
      "::1/128",
      "2001:db8::/64",
      "fe80::1:2/128",
    ]);
    assertEquals(
      bans.map((e: { ban_duration: number }) => e.ban_duration),
      [3600, DAY, DAY, 60, DAY],
    );
  });

  await t.step("add: already banned, by a subnet holding the IP or the same subnet", async () => {
    const already = "Error: IP/Subnet already banned";
    await rejects(call("setban", ["192.168.0.6", "add"]), -23, already);
    await rejects(call("setban", ["10.9.200.1", "add"]), -23, already);
    await rejects(call("setban", ["10.9.0.0/16", "add"]), -23, already);
    await rejects(call("setban", ["192.168.0.6/32", "add"]), -23, already);
    // A subnet is only banned by a ban of itself: a smaller one inside a ban can be added.
    assertEquals(await call("setban", ["10.9.1.0/24", "add", 10]), null);
    await call("setban", ["10.9.1.0/24", "remove"]);
  });

  await t.step("add: invalid IPs and subnets (-30), Core's LookupHost and IsValid", async () => {
    for (
      const bad of [
        "",
        "bad",
        "1.2.3",
        "256.1.1.1",
        "1.2.3.4:8333",
        "1.2.3.4/33",
        "1.2.3.4/255.0.255.0",
        "1.2.3.4/ffff::",
        "::/129",
        "/24",
        "0.0.0.0", // not a valid address (Core's IsValid) as a single IP…
        "255.255.255.255",
        "::",
        "2001:db8::1",
        "fd6b:88c0:8724::1", // Core's internal range
      ]
    ) {
      await rejects(call("setban", [bad, "add"]), -30, "Error: Invalid IP/Subnet");
    }
    // …but a valid subnet with the prefix written out.
    assertEquals(await call("setban", ["2001:db8::1/128", "add"]), null);
    await call("setban", ["2001:db8::1/128", "remove"]);
  });

  await t.step("add: bantime and absolute checked as Core does", async () => {
    await rejects(
      call("setban", ["203.0.113.1", "add", now - 10, true]),
      -8,
      "Error: Absolute timestamp is in the past",
    );
    await rejects(
      call("setban", ["203.0.113.1", "add", 0, true]),
      -8,
      "Error: Absolute timestamp is in the past",
    );
    await rejects(call("setban", ["203.0.113.1", "add", 1.5]), -1, "JSON integer out of range");
    await rejects(
      call("setban", ["203.0.113.1", "add", "60"]),
      -3,
      'Wrong type passed:\n{\n    "Position 3 (bantime)": "JSON value of type string is not of expected type number"\n}',
    );
    await call("setban", ["203.0.113.1", "add", now + 5000, true]);
    const entry = (await call("listbanned")).find((e: { address: string }) =>
      e.address === "203.0.113.1/32"
    );
    assertEquals(entry.banned_until, now + 5000);
    // Beyond the largest 64-bit time: held at it (Core's sum overflows).
    const raw = await node.raw(
      '{"jsonrpc":"2.0","id":1,"method":"setban","params":["203.0.113.2","add",9223372036854775807]}',
    );
    assertEquals(raw.body, { jsonrpc: "2.0", result: null, id: 1 });
    const list = await node.raw('{"jsonrpc":"2.0","id":2,"method":"listbanned","params":[]}');
    assert(
      list.text.includes('"address":"203.0.113.2/32","ban_created":') &&
        list.text.includes('"banned_until":9223372036854775807,'),
      list.text,
    );
  });

  await t.step("a command other than add or remove: the help text (-1)", async () => {
    await rejects(call("setban", ["1.2.3.4", "ban"]), -1, helpError("setban"));
    await rejects(call("setban", ["1.2.3.4"]), -1, helpError("setban"));
    // The command is checked first, as Core's.
    await rejects(call("setban", ["bad", "x"]), -1, helpError("setban"));
  });

  await t.step("remove: the exact IP or subnet only (-30 otherwise)", async () => {
    const failed =
      "Error: Unban failed. Requested address/subnet was not previously manually banned.";
    await rejects(call("setban", ["10.9.200.1", "remove"]), -30, failed);
    await rejects(call("setban", ["10.9.0.0/17", "remove"]), -30, failed);
    await rejects(call("setban", ["bad", "remove"]), -30, "Error: Invalid IP/Subnet");
    assertEquals(await call("setban", ["192.168.0.6/32", "remove"]), null);
    await rejects(call("setban", ["192.168.0.6", "remove"]), -30, failed);
    assertEquals(await call("setban", ["10.9.0.0/255.255.0.0", "remove"]), null);
    assert(!(await listed()).some(([a]: string[]) => a === "10.9.0.0/16"));
  });

  await t.step("the file follows every change, in Core's format", async () => {
    const bans = await listed();
    assertEquals(
      Deno.readTextFileSync(`${node.datadir}/regtest/banlist.json`),
      banlistText(bans.map((
        [address, created, until]: [string, number, number],
      ) => [address, created, address === "203.0.113.2/32" ? 2n ** 63n - 1n : until])),
    );
  });

  await t.step("clearbanned empties the list and the file", async () => {
    assertEquals(await call("clearbanned"), null);
    assertEquals(await call("listbanned"), []);
    assertEquals(Deno.readTextFileSync(`${node.datadir}/regtest/banlist.json`), banlistText([]));
    await rejects(call("clearbanned", [1]), -1, helpError("clearbanned"));
    await rejects(call("listbanned", [1]), -1, helpError("listbanned"));
  });

  await t.step(
    "expiry: a ban of 5 seconds, and an absolute one, are swept once ended",
    async () => {
      // Seconds enough that a busy machine lists all three before the first ends.
      const start = await nodeNow(call);
      await call("setban", ["192.0.2.1", "add", 5]);
      await call("setban", ["192.0.2.0/24", "add", start + 6, true]);
      await call("setban", ["192.0.2.128/25", "add", 600]);
      assertEquals((await listed()).map(([a]: string[]) => a), [
        "192.0.2.0/24",
        "192.0.2.1/32",
        "192.0.2.128/25",
      ]);
      // Listed until the second after its end (Core: swept when now > banned_until).
      await waitFor(async () => (await listed()).length === 1, 30_000, "both bans to end");
      assertEquals((await listed()).map(([a]: string[]) => a), ["192.0.2.128/25"]);
      assert((await nodeNow(call)) >= start + 7);
      // An ended ban no longer stands in the way.
      assertEquals(await call("setban", ["192.0.2.1", "add"]), null);
    },
  );
});

Deno.test("the ban list survives a restart, in banlist.json; -bantime; Core's file read", async () => {
  using temp = tempDir("network_test_");
  const datadir = temp.path;
  const file = `${datadir}/regtest/banlist.json`;
  let kept: unknown[];
  {
    await using node = await startRealNode({ datadir, args: ["-rpcdoccheck", "-bantime=7200"] });
    // A fresh node writes the empty list at start, as Core's BanMan does.
    assertEquals(Deno.readTextFileSync(file), banlistText([]));
    await node.call("setban", ["198.18.0.0/15", "add"]);
    await node.call("setban", ["2001:db8:abcd::/48", "add", 4000000000, true]);
    await node.call("setban", ["198.51.100.7", "add", 100]);
    kept = await node.call("listbanned");
    assertEquals(
      kept.map((e) => (e as { ban_duration: number }).ban_duration).slice(0, 1),
      [7200],
      "-bantime sets the default",
    );
    assertEquals(await node.stop(), 0);
  }
  const written = Deno.readTextFileSync(file);
  assert(written.startsWith('{\n    "banned_nets": [\n        {\n            "version": 1,'));
  {
    await using node = await startRealNode({ datadir, args: ["-rpcdoccheck"] });
    const again = await node.call("listbanned");
    const without = (list: unknown[]) =>
      list.map((e) => {
        const { time_remaining: _, ...rest } = e as Record<string, unknown>;
        return rest;
      });
    assertEquals(without(again), without(kept));
    assertEquals(await node.stop(), 0);
  }
  // A file as Core would leave it: an ended ban, an entry of another version, one whose
  // address does not parse; the ended one is swept at start, the others dropped and logged.
  const now = Math.floor(Date.now() / 1000);
  Deno.writeTextFileSync(
    file,
    JSON.stringify({
      banned_nets: [
        { version: 1, ban_created: now - 100, banned_until: now - 50, address: "1.1.1.1/32" },
        { version: 2, ban_created: now, banned_until: now + 500, address: "2.2.2.2/32" },
        { version: 1, ban_created: now, banned_until: now + 500, address: "host.example" },
        { version: 1, ban_created: now, banned_until: now + 500, address: "3.3.3.0/24" },
      ],
    }),
  );
  {
    await using node = await startRealNode({ datadir, args: ["-rpcdoccheck"] });
    assertEquals(
      (await node.call("listbanned")).map((e: { address: string }) => e.address),
      ["3.3.3.0/24"],
    );
    assertEquals(Deno.readTextFileSync(file), banlistText([["3.3.3.0/24", now, now + 500]]));
    assertEquals(await node.stop(), 0);
  }
  const log = Deno.readTextFileSync(`${datadir}/regtest/debug.log`);
  assert(log.includes(" Dropping entry with unknown version (2) from ban list\n"), log);
  assert(
    log.includes(
      " Dropping entry with unparseable address or subnet (host.example) from ban list\n",
    ),
    log,
  );
  // A damaged file: logged, and the list starts empty (written anew).
  Deno.writeTextFileSync(file, '{"banned_nets": [');
  {
    await using node = await startRealNode({ datadir, args: ["-rpcdoccheck"] });
    assertEquals(await node.call("listbanned"), []);
    assertEquals(Deno.readTextFileSync(file), banlistText([]));
  }
  const after = Deno.readTextFileSync(`${datadir}/regtest/debug.log`);
  assert(after.includes(`Cannot load banlist ${file}: Settings file ${file} does not contain`));
  // Recreated twice: at the very first start (no file) and now.
  assertEquals(after.split(" Recreating the banlist database\n").length, 3);
});

Deno.test("the ban list is bounded: a new ban beyond MAX_BANNED is refused (not Core's)", async () => {
  using temp = tempDir("network_test_");
  const datadir = temp.path;
  Deno.mkdirSync(`${datadir}/regtest`, { recursive: true });
  const until = Math.floor(Date.now() / 1000) + DAY;
  const entries: [string, number, number][] = [];
  for (let i = 0; i < MAX_BANNED; i++) {
    entries.push([`10.${i >> 16}.${(i >> 8) & 0xff}.${i & 0xff}/32`, until - DAY, until]);
  }
  Deno.writeTextFileSync(`${datadir}/regtest/banlist.json`, banlistText(entries));
  await using node = await startRealNode({ datadir, args: ["-rpcdoccheck"] });
  assertEquals((await node.call("listbanned")).length, MAX_BANNED);
  await rejects(node.call("setban", ["11.0.0.1", "add"]), -1, BAN_LIST_FULL);
  await rejects(node.call("setban", ["10.0.0.5", "add"]), -23, "Error: IP/Subnet already banned");
  await node.call("setban", ["10.0.0.5", "remove"]);
  assertEquals(await node.call("setban", ["11.0.0.1", "add"]), null);
  await node.call("clearbanned");
  assertEquals(await node.call("listbanned"), []);
});

Deno.test("addnode and getaddednodeinfo: the list kept, never connected", async () => {
  await using node = await startRealNode({ args: ["-rpcdoccheck"] });
  const call = node.call;
  const notAdded = "Error: Node has not been added.";
  assertEquals(await call("getaddednodeinfo"), []);
  await rejects(call("getaddednodeinfo", ["127.0.0.1"]), -24, notAdded);

  assertEquals(await call("addnode", ["127.0.0.1", "add"]), null);
  assertEquals(
    await call("addnode", { node: "[::1]:18445", command: "add", v2transport: false }),
    null,
  );
  assertEquals(await call("addnode", ["peer.example:8333", "add"]), null);
  const already = "Error: Node already added";
  await rejects(call("addnode", ["127.0.0.1", "add"]), -23, already);
  // The same address and port (regtest's 18444 by default) is the same node.
  await rejects(call("addnode", ["127.0.0.1:18444", "add"]), -23, already);
  await rejects(call("addnode", ["[::1]:18445", "add"]), -23, already);
  assertEquals(await call("addnode", ["127.0.0.1:18445", "add"]), null);

  const entry = (addednode: string) => ({ addednode, connected: false, addresses: [] });
  assertEquals(await call("getaddednodeinfo"), [
    entry("127.0.0.1"),
    entry("[::1]:18445"),
    entry("peer.example:8333"),
    entry("127.0.0.1:18445"),
  ]);
  assertEquals(await call("getaddednodeinfo", ["peer.example:8333"]), [
    entry("peer.example:8333"),
  ]);
  // Named as it was added, not by its address.
  await rejects(call("getaddednodeinfo", ["127.0.0.1:18444"]), -24, notAdded);

  // onetry: nothing to try without a peer-to-peer network, and not listed.
  assertEquals(await call("addnode", ["192.0.2.9", "onetry"]), null);
  assertEquals((await call("getaddednodeinfo")).length, 4);

  // v2transport: this node offers no NODE_P2P_V2 (getnetworkinfo's localservices), so v2 is
  // never enabled; Core checks it before the command, remove included.
  const v2 = "Error: v2transport requested but not enabled (see -v2transport)";
  await rejects(call("addnode", ["192.0.2.10", "add", true]), -8, v2);
  await rejects(call("addnode", ["127.0.0.1", "remove", true]), -8, v2);
  await rejects(call("addnode", ["192.0.2.10", "onetry", true]), -8, v2);

  await rejects(call("addnode", ["192.0.2.10", "connect"]), -1, helpError("addnode"));
  await rejects(call("addnode", ["192.0.2.10"]), -1, helpError("addnode"));
  await rejects(
    call("addnode", ["192.0.2.10", "add", "yes"]),
    -3,
    'Wrong type passed:\n{\n    "Position 3 (v2transport)": "JSON value of type string is not of expected type bool"\n}',
  );

  const notRemoved = "Error: Node could not be removed. It has not been added previously.";
  await rejects(call("addnode", ["127.0.0.1:18444", "remove"]), -24, notRemoved);
  assertEquals(await call("addnode", ["127.0.0.1", "remove"]), null);
  await rejects(call("addnode", ["127.0.0.1", "remove"]), -24, notRemoved);
  await rejects(call("getaddednodeinfo", ["127.0.0.1"]), -24, notAdded);
  assertEquals((await call("getaddednodeinfo")).map((e: { addednode: string }) => e.addednode), [
    "[::1]:18445",
    "peer.example:8333",
    "127.0.0.1:18445",
  ]);
});

Deno.test("disconnectnode, getnodeaddresses, getaddrmaninfo, setnetworkactive", async (t) => {
  await using node = await startRealNode({ args: ["-rpcdoccheck"] });
  const call = node.call;

  await t.step(
    "disconnectnode: never a node to disconnect; one of address and nodeid",
    async () => {
      const notFound = "Node not found in connected nodes";
      await rejects(call("disconnectnode", ["192.168.0.6:8333"]), -29, notFound);
      await rejects(call("disconnectnode", [""]), -29, notFound);
      await rejects(call("disconnectnode", ["", 1]), -29, notFound);
      await rejects(call("disconnectnode", { nodeid: 0 }), -29, notFound);
      // Core answers RPC_INVALID_PARAMS (-32602) here.
      const onlyOne = "Only one of address and nodeid should be provided.";
      await rejects(call("disconnectnode", ["192.168.0.6:8333", 1]), -32602, onlyOne);
      await rejects(call("disconnectnode", []), -32602, onlyOne);
      await rejects(call("disconnectnode", [null, null]), -32602, onlyOne);
      await rejects(call("disconnectnode", ["", 1.5]), -1, "JSON integer out of range");
      await rejects(call("disconnectnode", ["a", 1, 2]), -1, helpError("disconnectnode"));
    },
  );

  await t.step("getnodeaddresses: none known; Core's count and network checks", async () => {
    assertEquals(await call("getnodeaddresses"), []);
    assertEquals(await call("getnodeaddresses", [0]), []);
    assertEquals(await call("getnodeaddresses", [8, "ipv4"]), []);
    assertEquals(await call("getnodeaddresses", { count: 4, network: "I2P" }), []);
    assertEquals(await call("getnodeaddresses", [1, "tor"]), []); // deprecated, logged
    await rejects(call("getnodeaddresses", [-1]), -8, "Address count out of range");
    await rejects(call("getnodeaddresses", [1, "ipv5"]), -8, "Network not recognized: ipv5");
    await rejects(call("getnodeaddresses", [1, ""]), -8, "Network not recognized: ");
    await rejects(call("getnodeaddresses", [2147483648]), -1, "JSON integer out of range");
    await rejects(call("getnodeaddresses", [-1, "ipv5"]), -8, "Address count out of range");
  });

  await t.step("getaddrmaninfo: an empty address manager, network by network", async () => {
    const zero = { new: 0, tried: 0, total: 0 };
    const info = await call("getaddrmaninfo");
    assertEquals(Object.keys(info), ["ipv4", "ipv6", "onion", "i2p", "cjdns", "all_networks"]);
    assertEquals(Object.values(info), new Array(6).fill(zero));
    await rejects(call("getaddrmaninfo", [1]), -1, helpError("getaddrmaninfo"));
  });

  await t.step("setnetworkactive: the state returned, and getnetworkinfo's", async () => {
    assertEquals((await call("getnetworkinfo")).networkactive, true);
    assertEquals(await call("setnetworkactive", [false]), false);
    assertEquals((await call("getnetworkinfo")).networkactive, false);
    assertEquals(await call("setnetworkactive", { state: true }), true);
    assertEquals((await call("getnetworkinfo")).networkactive, true);
    await rejects(call("setnetworkactive"), -1, helpError("setnetworkactive"));
    await rejects(
      call("setnetworkactive", ["false"]),
      -3,
      'Wrong type passed:\n{\n    "Position 1 (state)": "JSON value of type string is not of expected type bool"\n}',
    );
    const log = Deno.readTextFileSync(`${node.datadir}/regtest/debug.log`);
    assert(log.includes(" SetNetworkActive: false\n") && log.includes(" SetNetworkActive: true\n"));
    assert(log.includes(" Warning: net name 'tor' is deprecated"), log);
  });
});
