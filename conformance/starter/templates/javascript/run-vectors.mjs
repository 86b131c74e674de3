#!/usr/bin/env node
// Replay the released Aethel vectors of the capabilities this program implements.
//
//   node run-vectors.mjs VECTORS_DIR
//
// VECTORS_DIR is a release written by `aethel-conformance vectors export --out VECTORS_DIR`.
// For every case <area>/<handler>/<case>/ of a declared capability whose handler is one command,
// read input.json (the command's parameters, parsed losslessly), call the command, build
// {"result": ...} or {"reject": true} (a refusal; for verify_signature also the answer false)
// and compare it with expected.json (JSON equality, 2 and 2.0 told apart). Every file read is
// first checked against the SHA-256 manifest.json lists. Exit status 0 when every case passes.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { CAPABILITIES, COMMANDS } from "./aethel-starter.mjs";
import { Refused } from "./encoding.mjs";
import { parse, same, stringify } from "./json.mjs";

const root = process.argv[2];
if (!root) {
  console.error("usage: node run-vectors.mjs VECTORS_DIR");
  process.exit(2);
}
const manifest = JSON.parse(fs.readFileSync(path.join(root, "manifest.json"), "utf8")).files;

function read(relative) {
  const bytes = fs.readFileSync(path.join(root, relative));
  const digest = crypto.createHash("sha256").update(bytes).digest("hex");
  if (manifest[relative] !== digest) throw new Error(`${relative}: not the file the manifest lists`);
  return parse(bytes.toString("utf8"));
}

const FALSE_IS_REFUSAL = new Set(["encoding.verify_signature"]);
let passed = 0;
let failed = 0;
for (const area of CAPABILITIES) {
  if (!fs.existsSync(path.join(root, area))) continue;
  for (const handler of fs.readdirSync(path.join(root, area)).sort()) {
    const command = COMMANDS[`${area}.${handler}`];
    const dir = path.join(root, area, handler);
    if (!command || !fs.statSync(dir).isDirectory()) continue;
    for (const name of fs.readdirSync(dir).sort()) {
      const base = `${area}/${handler}/${name}`;
      if (!fs.existsSync(path.join(root, base, "meta.json"))) continue;
      read(`${base}/meta.json`);
      const params = read(`${base}/input.json`);
      const expected = read(`${base}/expected.json`);
      let got;
      try {
        const result = command(params);
        got = result === false && FALSE_IS_REFUSAL.has(`${area}.${handler}`) ? { reject: true } : { result };
      } catch (failure) {
        // a refusal is an outcome; any other error is a bug that fails its case, not the run
        got = failure instanceof Refused ? { reject: true } : { error: String(failure) };
      }
      if (same(got, expected)) {
        passed += 1;
      } else {
        failed += 1;
        console.log(`FAIL ${base}: expected ${stringify(expected).slice(0, 200)}, got ${stringify(got).slice(0, 200)}`);
      }
    }
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
