#!/usr/bin/env node
// A minimal Aethel implementation speaking the conformance subprocess protocol (PROTOCOL.md).
//
// Written by `aethel-conformance init --lang javascript`. End to end: the framing (one JSON
// request per line on stdin, one response per line on stdout; unreadable lines answered with
// "id": null and kind bad-request), the session (hello, close, shutdown) and two capabilities,
// `encoding` (encoding.mjs) and `list-hash` (list-hash.mjs). See README.md for the JSON pitfalls
// and for loading the conforming Z3 from Node before you add `verifier`.
//
//   aethel-conformance smoke --impl "stdio:node aethel-starter.mjs"
//   aethel-conformance run --impl "stdio:node aethel-starter.mjs" --capability encoding
//   node run-vectors.mjs VECTORS_DIR
import readline from "node:readline";
import { COMMANDS as ENCODING, Refused } from "./encoding.mjs";
import { JsonSyntaxError, parse, stringify } from "./json.mjs";
import { COMMANDS as LIST_HASH } from "./list-hash.mjs";

const NAME = "aethel-starter-javascript";
const VERSION = "0.1.0";
const PROTOCOL = 1n;
export const CAPABILITIES = ["encoding", "list-hash"];
export const COMMANDS = { ...ENCODING, ...LIST_HASH };

const error = (id, kind, message, rule) => ({
  id,
  ok: false,
  error: rule ? { kind, message, rule } : { kind, message },
});

// Return [response, keep running].
export function answer(line) {
  let request;
  try {
    request = parse(line);
  } catch (failure) {
    if (failure instanceof JsonSyntaxError || failure instanceof RangeError) {
      return [error(null, "bad-request", "not a JSON line"), true];
    }
    throw failure;
  }
  const id = request !== null && typeof request === "object" ? request.id : undefined;
  if (typeof id !== "bigint" || id < 0n) {
    return [error(null, "bad-request", "a request has a non-negative integer id"), true];
  }
  const { cmd, params } = request;
  if (typeof cmd !== "string" || params === null || typeof params !== "object") {
    return [error(id, "bad-request", "a request has a cmd and params"), true];
  }
  if (cmd === "hello") {
    if (!Array.isArray(params.protocol) || !params.protocol.includes(PROTOCOL)) {
      return [error(id, "bad-request", `this program speaks protocol ${PROTOCOL}`), true];
    }
    const result = { name: NAME, version: VERSION, protocol: PROTOCOL, capabilities: CAPABILITIES };
    return [{ id, ok: true, result }, true];
  }
  if (cmd === "close" || cmd === "shutdown") return [{ id, ok: true, result: null }, cmd !== "shutdown"];
  const command = COMMANDS[cmd];
  if (command === undefined) return [error(id, "unsupported", `${cmd} is not implemented`), true];
  try {
    return [{ id, ok: true, result: command(params) }, true];
  } catch (failure) {
    if (failure instanceof Refused) return [error(id, "rejected", failure.message, failure.rule), true];
    return [error(id, "internal", String(failure && failure.stack ? failure.stack : failure)), true];
  }
}

async function main() {
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    const [response, keep] = answer(line);
    process.stdout.write(`${stringify(response)}\n`);
    if (!keep) break;
  }
  lines.close();
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith("aethel-starter.mjs")) {
  main();
}
