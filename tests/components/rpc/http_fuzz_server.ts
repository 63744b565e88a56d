/**
 * The RPC server as its own process for the HTTP fuzzer: the real
 * `RpcServer` (HTTP server, auth, JSON-RPC envelope, control methods) with
 * the stub method table the RPC tests use, on a free port with cookie auth,
 * or `-rpcuser=fuzz -rpcpassword=pw` with `--userpass`. Prints
 * `fuzz server: <port> <cookie file>` once serving; its log goes to stdout,
 * so anything on stderr is unexpected.
 *
 *   deno run -A tests/components/rpc/http_fuzz_server.ts <datadir> [--userpass] [--timeout=S]
 *
 * @module
 */
import { RpcServer } from "../../../components/rpc/server.ts";
import { stubMethods } from "./stub_methods.ts";

const [datadir, ...flags] = Deno.args;
const userpass = flags.includes("--userpass");
const timeout = flags.find((f) => f.startsWith("--timeout="));
const server = new RpcServer({
  datadir,
  port: 0,
  methods: stubMethods(),
  log: (line) => console.log(`log: ${line}`),
  ...(userpass ? { user: "fuzz", password: "pw" } : {}),
  ...(timeout ? { serverTimeout: Number(timeout.slice("--timeout=".length)) } : {}),
});
await server.start();
console.log(`fuzz server: ${server.port} ${server.cookiePath ?? ""}`);
await server.stopped;
