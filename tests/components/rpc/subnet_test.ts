/**
 * -rpcallowip subnets and -rpcbind endpoints as Core parses them, and the
 * ban list's view of addresses: Core's LookupHost, IsValid, ToString.
 */
import { assert, assertEquals, assertThrows } from "../../assert.ts";
import {
  AllowList,
  formatIp,
  isValidIp,
  lookupHost,
  parseIp,
  splitHostPort,
  splitHostPortParts,
  Subnet,
} from "../../../components/rpc/subnet.ts";

Deno.test("IP addresses: IPv4, IPv6, IPv4-mapped as IPv4, nothing else", () => {
  assertEquals(parseIp("127.0.0.1"), new Uint8Array([127, 0, 0, 1]));
  assertEquals(parseIp("::ffff:10.1.2.3"), new Uint8Array([10, 1, 2, 3]));
  assertEquals(parseIp("::1")?.length, 16);
  assertEquals(parseIp("2001:db8::1:0:0:1")?.[15], 1);
  for (
    const bad of [
      "256.0.0.1",
      "1.2.3",
      "1.2.3.4.5",
      "localhost",
      "1::2::3",
      "12345::",
      "",
      "1.2.3.04a",
    ]
  ) {
    assertEquals(parseIp(bad), undefined, bad);
  }
});

Deno.test("subnets: single IP, CIDR, netmask; invalid forms refused", () => {
  const match = (subnet: string, ip: string) => Subnet.parse(subnet)!.matches(parseIp(ip)!);
  assert(match("10.0.0.0/8", "10.255.0.1"));
  assert(!match("10.0.0.0/8", "11.0.0.1"));
  assert(match("192.168.1.0/255.255.255.0", "192.168.1.77"));
  assert(match("1.2.3.4", "1.2.3.4") && !match("1.2.3.4", "1.2.3.5"));
  assert(match("0.0.0.0/0", "8.8.8.8"));
  assert(match("::/0", "2001:db8::1") && !match("::/0", "1.2.3.4"));
  assert(match("fe80::/10", "fe80::1234"));
  assert(!match("10.0.0.0/8", "::ffff:11.0.0.1"));
  for (
    const bad of [
      "10.0.0.0/33",
      "10.0.0.0/255.0.255.0",
      "10.0.0.0/ffff::",
      "::/129",
      "host/8",
      "10.0.0.0/",
    ]
  ) {
    assertEquals(Subnet.parse(bad), undefined, bad);
  }
});

Deno.test("the allow list: 127.0.0.0/8 and ::1 always, plus -rpcallowip", () => {
  const allow = new AllowList(["192.0.2.0/24"]);
  for (
    const ip of [
      "127.0.0.1",
      "127.0.0.2",
      "127.255.255.254",
      "::1",
      "::ffff:127.0.0.9",
      "192.0.2.200",
    ]
  ) {
    assert(allow.allows(ip), ip);
  }
  for (const ip of ["128.0.0.1", "::2", "192.0.3.1", "not an ip"]) assert(!allow.allows(ip), ip);
  assertThrows(
    () => new AllowList(["1.2.3.4/99"]),
    Error,
    "Invalid -rpcallowip subnet specification: 1.2.3.4/99. Valid values are a single IP (e.g. 1.2.3.4), a network/netmask (e.g. 1.2.3.4/255.255.255.0), a network/CIDR (e.g. 1.2.3.4/24), all ipv4 (0.0.0.0/0), or all ipv6 (::/0). RFC4193 is allowed only if -cjdnsreachable=0.",
  );
});

Deno.test("-rpcbind: addr[:port] as SplitHostPort", () => {
  assertEquals(splitHostPort("127.0.0.1", 18443), { host: "127.0.0.1", port: 18443 });
  assertEquals(splitHostPort("127.0.0.1:1234", 18443), { host: "127.0.0.1", port: 1234 });
  assertEquals(splitHostPort("[::1]:1234", 18443), { host: "::1", port: 1234 });
  assertEquals(splitHostPort("[::1]", 18443), { host: "::1", port: 18443 });
  assertEquals(splitHostPort("::1", 18443), { host: "::1", port: 18443 });
  assertEquals(splitHostPort("localhost:80", 18443), { host: "localhost", port: 80 });
  for (
    const bad of ["127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:abc", "[::1]:x", "127.0.0.1:+80"]
  ) {
    assertThrows(
      () => splitHostPort(bad, 18443),
      Error,
      `Invalid port specified in -rpcbind: '${bad}'`,
    );
  }
});

Deno.test("LookupHost: brackets; Core's internal range is no address, the TORv2 range is ::", () => {
  assertEquals(lookupHost("[::1]"), parseIp("::1"));
  assertEquals(lookupHost("[1.2.3.4]"), new Uint8Array([1, 2, 3, 4]));
  assertEquals(lookupHost("fd6b:88c0:8724::1"), undefined);
  assertEquals(lookupHost("fd87:d87e:eb43::1"), new Uint8Array(16));
  for (const bad of ["[", "[]", "[::1", "::1]", "host"]) {
    assertEquals(lookupHost(bad), undefined, bad);
  }
});

Deno.test("CNetAddr::IsValid: not any, not broadcast, not ::, not IPv6 documentation", () => {
  for (const ip of ["1.2.3.4", "127.0.0.1", "::1", "2001:db9::1", "fe80::1"]) {
    assert(isValidIp(parseIp(ip)!), ip);
  }
  for (const ip of ["0.0.0.0", "255.255.255.255", "::", "2001:db8::1", "2001:0DB8:ffff::"]) {
    assert(!isValidIp(parseIp(ip)!), ip);
  }
});

Deno.test("ToStringAddr: dotted IPv4, RFC 5952 IPv6 (the first longest zero run compressed)", () => {
  for (
    const [text, written] of [
      ["1.2.3.4", "1.2.3.4"],
      ["::ffff:1.2.3.4", "1.2.3.4"],
      ["::", "::"],
      ["::1", "::1"],
      ["1::", "1::"],
      ["1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"],
      ["2001:DB8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
      ["1:0:2:0:0:0:3:0", "1:0:2::3:0"],
      ["1:0:2:3:4:5:6:7", "1:0:2:3:4:5:6:7"],
      ["fe80:0000:0000:0000:0202:b3ff:fe1e:8329", "fe80::202:b3ff:fe1e:8329"],
    ]
  ) {
    assertEquals(formatIp(parseIp(text)!), written, text);
  }
});

Deno.test("CSubNet::ToString and order; CIDR and netmask forms", () => {
  for (
    const [text, written] of [
      ["1.2.3.4", "1.2.3.4/32"],
      ["1.2.3.4/24", "1.2.3.0/24"],
      ["1.2.3.4/024", "1.2.3.0/24"],
      ["1.2.3.4/255.255.128.0", "1.2.0.0/17"],
      ["1.2.3.4/0", "0.0.0.0/0"],
      ["[::1]", "::1/128"],
      ["[fe80::1]/10", "fe80::/10"],
      ["2001:db8::1/ffff:ffff::", "2001:db8::/32"],
    ]
  ) {
    assertEquals(Subnet.parse(text)?.toString(), written, text);
  }
  // Core's ToIntegral: digits only, no sign.
  for (
    const bad of [
      "1.2.3.4/256",
      "1.2.3.4/-1",
      "1.2.3.4/+24",
      "1.2.3.4/8/8",
      "/8",
      "1.2.3.4/[255.0.0.0",
    ]
  ) {
    assertEquals(Subnet.parse(bad), undefined, bad);
  }
  const sorted = ["::/0", "10.0.0.0/16", "10.0.0.0/8", "9.0.0.0/8", "::1"]
    .map((t) => Subnet.parse(t)!).sort(Subnet.compare).map(String);
  assertEquals(sorted, ["9.0.0.0/8", "10.0.0.0/8", "10.0.0.0/16", "::/0", "::1/128"]);
});

Deno.test("SplitHostPort with its result: a port 0 is taken but not valid", () => {
  assertEquals(splitHostPortParts("1.2.3.4:0", 18444), { host: "1.2.3.4", port: 0, valid: false });
  assertEquals(splitHostPortParts("1.2.3.4:99999", 18444), {
    host: "1.2.3.4:99999",
    port: 18444,
    valid: false,
  });
  assertEquals(splitHostPortParts("[::1]:8", 18444), { host: "::1", port: 8, valid: true });
});
