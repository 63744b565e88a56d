/**
 * The wallet process's options: its own JSON-RPC only with `-rpcport`,
 * bitcoind's credential options, loopback only, one-line errors.
 *
 * @module
 */
import { assertEquals, assertThrows } from "../../assert.ts";
import { parseWalletArgs } from "../../../components/wallet/options.ts";

Deno.test("wallet options: no -rpcport, no JSON-RPC server", () => {
  const options = parseWalletArgs(["-wallet=w", "-rpcuser=u", "-rpcpassword=p"]);
  assertEquals(options.rpc, null);
});

Deno.test("wallet options: -rpcport with a cookie by default, or bitcoind's credential options", () => {
  assertEquals(parseWalletArgs(["-rpcport=18600"]).rpc, {
    port: 18600,
    user: "",
    password: "",
    rpcauth: [],
    cookieFile: ".cookie",
  });
  assertEquals(
    parseWalletArgs([
      "--rpcport=1",
      "-rpcuser=alice",
      "-rpcpassword=secret",
      "-rpcauth=bob:salt$hmac",
      "-norpccookiefile",
    ]).rpc,
    { port: 1, user: "alice", password: "secret", rpcauth: ["bob:salt$hmac"], cookieFile: false },
  );
  assertEquals(
    parseWalletArgs(["-rpcport=2", "-rpccookiefile=my.cookie"]).rpc?.cookieFile,
    "my.cookie",
  );
});

Deno.test("wallet options: a bad port, -rpcbind and -rpcallowip are one-line errors", () => {
  for (
    const [arg, message] of [
      ["-rpcport=0", "Invalid port specified in -rpcport: '0'"],
      ["-rpcport=65536", "Invalid port specified in -rpcport: '65536'"],
      ["-rpcport=x", "Invalid port specified in -rpcport: 'x'"],
      ["-rpcbind=0.0.0.0", "-rpcbind: the wallet's JSON-RPC listens on 127.0.0.1 and ::1 only"],
      [
        "-rpcallowip=10.0.0.0/8",
        "-rpcallowip: the wallet's JSON-RPC listens on 127.0.0.1 and ::1 only",
      ],
    ]
  ) {
    assertThrows(() => parseWalletArgs([arg]), Error, message);
  }
});

Deno.test("wallet options: -walletnotify, the last given, and -nowalletnotify turning it off", () => {
  assertEquals(parseWalletArgs(["-walletnotify=a %s", "-walletnotify=b %s"]).walletNotify, "b %s");
  assertEquals(parseWalletArgs(["-walletnotify=a %s", "-nowalletnotify"]).walletNotify, null);
  assertEquals(parseWalletArgs(["-walletnotify="]).walletNotify, null);
});
