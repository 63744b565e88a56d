/**
 * -rpcallowip subnets and -rpcbind endpoints as Core parses them.
 */
import { assert, assertEquals, assertThrows } from "../../assert.ts";
import { AllowList, parseIp, splitHostPort, Subnet } from "../../../components/rpc/subnet.ts";

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
  for (const bad of ["127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:abc", "[::1]:x"]) {
    assertThrows(
      () => splitHostPort(bad, 18443),
      Error,
      `Invalid port specified in -rpcbind: '${bad}'`,
    );
  }
});
