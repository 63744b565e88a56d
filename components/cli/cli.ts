/**
 * The whole of bitcoin-cli as a function of its command line, standard
 * input and output (Core v30.0's `AppInitRPC` and `CommandLineRPC`): it
 * reads the options and `bitcoin.conf`, takes the password, the wallet
 * passphrase and extra arguments from standard input when asked to, makes
 * the call (or `-generate`'s, or `-getinfo`'s), prints the result on
 * stdout or the error on stderr, and returns the exit status: 0, 1 for the
 * client's own errors, |code| of an RPC error (mod 256, as a shell sees it).
 *
 * `-netinfo` and `-addrinfo` are accepted options that answer with a clear
 * error: this client does not draw peer dashboards, and the node it serves
 * has no peer-to-peer network.
 *
 * @module
 */
import type { StartupEnvironment } from "../node/config.ts";
import { asStr, type Json } from "../rpc/json.ts";
import {
  type CallContext,
  CliError,
  connectAndCallRpc,
  DefaultRequestHandler,
  member,
  type RequestHandler,
} from "./call.ts";
import { GenerateToAddressHandler, generateWords } from "./generate.ts";
import { addWalletBalances, GetinfoHandler, getinfoText, shouldColorize } from "./getinfo.ts";
import { appInit, CLI_COMMANDS, type CliSettings } from "./options.ts";
import { errorReport, resultText } from "./output.ts";
import { type ByteSink, writeAll } from "./stdin.ts";

/** Standard input as the client reads it. */
export interface LineSource {
  /** Whether it is a terminal. */
  readonly isTerminal: boolean;
  /** Every remaining line. */
  readAll(): Promise<string[]>;
  /** A line typed without echo on a terminal, after `prompt`; null at the end of input. */
  readSecret(prompt: string): Promise<string | null>;
}

/** The process around the client. */
export interface CliIo {
  /** Standard output. */
  stdout: ByteSink & { isTerminal(): boolean };
  /** Standard error. */
  stderr: ByteSink;
  /** Standard input. */
  stdin: LineSource;
  /** Working directory and `$HOME`; the process's own by default. */
  env?: StartupEnvironment;
}

const encoder = new TextEncoder();

/** Runs bitcoin-cli with `argv`; resolves with the exit status (0–255). */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const start = appInit(argv, io.env);
  if (start.kind === "print") {
    await writeAll(io.stdout, encoder.encode(start.stdout));
    await writeAll(io.stderr, encoder.encode(start.stderr));
    return start.code;
  }
  const { text, code } = await commandLineRpc(start.settings, io);
  if (text !== "") await writeAll(code === 0 ? io.stdout : io.stderr, encoder.encode(`${text}\n`));
  return code & 0xff;
}

/** Core's `CheckMultipleCLIArgs`: at most one of `-addrinfo`, `-generate`, `-getinfo`, `-netinfo`. */
function checkOneCommand(settings: CliSettings): void {
  const found = CLI_COMMANDS.filter((name) => settings.args.isSet(name));
  if (found.length > 1) {
    throw new CliError(
      `Only one of ${found.map((name) => `-${name}`).join(", ")} may be specified.`,
    );
  }
}

/** A secret line from standard input, or Core's error naming the option. */
async function secretLine(io: CliIo, option: string, prompt: string): Promise<string> {
  const line = await io.stdin.readSecret(prompt);
  if (line === null) {
    throw new CliError(`${option} specified but failed to read from standard input`);
  }
  if (io.stdin.isTerminal) await writeAll(io.stdout, encoder.encode("\n"));
  return line;
}

/** Core's `CommandLineRPC`: what to print, and the exit status before `mod 256`. */
async function commandLineRpc(
  settings: CliSettings,
  io: CliIo,
): Promise<{ text: string; code: number }> {
  const { args } = settings;
  try {
    let password = args.get("rpcpassword") ?? "";
    if (args.getBool("stdinrpcpass", false)) {
      password = await secretLine(io, "-stdinrpcpass", "RPC password> ");
    }
    const words = [...settings.words];
    if (args.getBool("stdinwalletpassphrase", false)) {
      if (words.length < 1 || !words[0].startsWith("walletpassphrase")) {
        throw new CliError(
          "-stdinwalletpassphrase is only applicable for walletpassphrase(change)",
        );
      }
      words.splice(1, 0, await secretLine(io, "-stdinwalletpassphrase", "Wallet passphrase> "));
    }
    if (args.getBool("stdin", false)) {
      words.push(...await io.stdin.readAll());
      if (io.stdin.isTerminal) await writeAll(io.stdout, encoder.encode("\n"));
    }
    checkOneCommand(settings);

    const context: CallContext = {
      settings,
      password,
      warn: (line) => writeAll(io.stderr, encoder.encode(`${line}\n`)),
    };
    const named = args.getBool("named", false);
    // -norpcwallet means no wallet.
    const wallet = args.isNegated("rpcwallet") ? undefined : args.get("rpcwallet");
    let handler: RequestHandler;
    let method = "";
    if (args.getBool("getinfo", false)) {
      handler = new GetinfoHandler();
    } else if (args.getBool("netinfo", false) || args.getBool("addrinfo", false)) {
      const option = args.getBool("netinfo", false) ? "-netinfo" : "-addrinfo";
      throw new CliError(
        `${option} is not supported by this client (its node has no peer-to-peer network)`,
      );
    } else if (args.getBool("generate", false)) {
      const reply = await connectAndCallRpc(
        context,
        new DefaultRequestHandler(named),
        "getnewaddress",
        [],
        wallet,
      );
      const error = member(reply, "error");
      if (error !== null) return errorReport(error);
      words.splice(0, words.length, ...generateWords(asStr(member(reply, "result")), words));
      handler = new GenerateToAddressHandler();
    } else {
      handler = new DefaultRequestHandler(named);
      if (words.length < 1) throw new CliError("too few parameters (need at least command)");
      method = words.shift()!;
    }

    const reply = await connectAndCallRpc(context, handler, method, words, wallet);
    const error = member(reply, "error");
    if (error !== null) return errorReport(error);
    let result: Json = member(reply, "result");
    if (args.getBool("getinfo", false)) {
      if (wallet === undefined) await addWalletBalances(context, result);
      const colorize = shouldColorize(args.get("color") ?? "auto", io.stdout.isTerminal());
      result = getinfoText(result, colorize);
    }
    return { text: resultText(result), code: 0 };
  } catch (error) {
    // Core prints every exception of the call as `error: <what()>`, exit status 1.
    if (error instanceof Deno.errors.NotCapable) {
      return { text: `error: ${error.message} (the permission flags do not cover it)`, code: 1 };
    }
    return { text: `error: ${error instanceof Error ? error.message : String(error)}`, code: 1 };
  }
}
