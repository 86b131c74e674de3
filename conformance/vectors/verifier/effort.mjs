// Recompute the effort known answers of conformance/vectors/verifier/effort.json with Z3
// loaded from JavaScript, configured as spec/proofs.md fixes it (N7, R1.4): a new context per
// proof with model=false and auto_config=false, one SimpleSolver with rlimit = the budget and
// arith.solver = 2, the text loaded with solver_from_string, effort = the "rlimit count"
// statistic after one check minus before it.
//
//   node effort.mjs wasm   [effort.json]   Z3 from the npm package z3-solver (WebAssembly)
//   node effort.mjs PATH   [effort.json]   a native libz3 (e.g. the one in the PyPI wheel
//                                           z3-solver 4.15.4.0: site-packages/z3/lib/libz3.so)
//                                           called through the FFI package koffi
//
// Run it in the directory where `npm install z3-solver@4.15.4 koffi` put node_modules.
// Prints one JSON line per case and a summary; exits 1 if any effort or outcome differs.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

// Packages (z3-solver, koffi) resolve from the current directory, where they were installed.
const require = createRequire(`${process.cwd()}/`);
const [backend, file = new URL("effort.json", import.meta.url).pathname] = process.argv.slice(2);
if (!backend) {
  console.error("usage: node effort.mjs wasm|PATH-TO-libz3 [effort.json]");
  process.exit(2);
}

async function wasmZ3() {
  const { init } = require("z3-solver");
  const { Z3 } = await init();
  return {
    version: Z3.get_full_version(),
    async run(text, budget) {
      const cfg = Z3.mk_config();
      Z3.set_param_value(cfg, "model", "false");
      Z3.set_param_value(cfg, "auto_config", "false");
      const ctx = Z3.mk_context_rc(cfg);
      Z3.del_config(cfg);
      try {
        const solver = Z3.mk_simple_solver(ctx);
        Z3.solver_inc_ref(ctx, solver);
        const params = Z3.mk_params(ctx);
        Z3.params_inc_ref(ctx, params);
        Z3.params_set_uint(ctx, params, Z3.mk_string_symbol(ctx, "rlimit"), budget);
        Z3.params_set_uint(ctx, params, Z3.mk_string_symbol(ctx, "arith.solver"), 2);
        Z3.solver_set_params(ctx, solver, params);
        Z3.solver_from_string(ctx, solver, text);
        const before = rlimit(Z3, ctx, solver);
        const answer = await Z3.solver_check(ctx, solver);
        return { outcome: OUTCOMES[answer], effort: rlimit(Z3, ctx, solver) - before };
      } finally {
        Z3.del_context(ctx);
      }
    },
  };
}

function nativeZ3(path) {
  const koffi = require("koffi");
  const lib = koffi.load(path);
  const f = (signature) => lib.func(signature);
  const api = {
    mk_config: f("void *Z3_mk_config()"),
    del_config: f("void Z3_del_config(void *)"),
    set_param_value: f("void Z3_set_param_value(void *, const char *, const char *)"),
    mk_context_rc: f("void *Z3_mk_context_rc(void *)"),
    del_context: f("void Z3_del_context(void *)"),
    set_error_handler: f("void Z3_set_error_handler(void *, void *)"),
    get_error_code: f("int Z3_get_error_code(void *)"),
    mk_simple_solver: f("void *Z3_mk_simple_solver(void *)"),
    solver_inc_ref: f("void Z3_solver_inc_ref(void *, void *)"),
    mk_params: f("void *Z3_mk_params(void *)"),
    params_inc_ref: f("void Z3_params_inc_ref(void *, void *)"),
    mk_string_symbol: f("void *Z3_mk_string_symbol(void *, const char *)"),
    params_set_uint: f("void Z3_params_set_uint(void *, void *, void *, unsigned int)"),
    solver_set_params: f("void Z3_solver_set_params(void *, void *, void *)"),
    solver_from_string: f("void Z3_solver_from_string(void *, void *, const char *)"),
    solver_check: f("int Z3_solver_check(void *, void *)"),
    solver_get_statistics: f("void *Z3_solver_get_statistics(void *, void *)"),
    stats_inc_ref: f("void Z3_stats_inc_ref(void *, void *)"),
    stats_dec_ref: f("void Z3_stats_dec_ref(void *, void *)"),
    stats_size: f("unsigned int Z3_stats_size(void *, void *)"),
    stats_get_key: f("const char *Z3_stats_get_key(void *, void *, unsigned int)"),
    stats_get_uint_value: f("unsigned int Z3_stats_get_uint_value(void *, void *, unsigned int)"),
    get_full_version: f("const char *Z3_get_full_version()"),
  };
  // Without a handler Z3 exits the process on an error; with this one the call returns and
  // the error code says what happened.
  const handlerType = koffi.pointer(koffi.proto("void Z3ErrorHandler(void *, int)"));
  const handler = koffi.register(() => {}, handlerType);
  return {
    version: api.get_full_version(),
    async run(text, budget) {
      const cfg = api.mk_config();
      api.set_param_value(cfg, "model", "false");
      api.set_param_value(cfg, "auto_config", "false");
      const ctx = api.mk_context_rc(cfg);
      api.del_config(cfg);
      api.set_error_handler(ctx, handler);
      try {
        const solver = api.mk_simple_solver(ctx);
        api.solver_inc_ref(ctx, solver);
        const params = api.mk_params(ctx);
        api.params_inc_ref(ctx, params);
        api.params_set_uint(ctx, params, api.mk_string_symbol(ctx, "rlimit"), budget);
        api.params_set_uint(ctx, params, api.mk_string_symbol(ctx, "arith.solver"), 2);
        api.solver_set_params(ctx, solver, params);
        api.solver_from_string(ctx, solver, text);
        if (api.get_error_code(ctx) !== 0) return { outcome: "error", effort: 0 };
        const before = rlimit(api, ctx, solver);
        const answer = api.solver_check(ctx, solver);
        return { outcome: OUTCOMES[answer], effort: rlimit(api, ctx, solver) - before };
      } finally {
        api.del_context(ctx);
      }
    },
  };
}

const OUTCOMES = { 1: "sat", 0: "unknown", [-1]: "unsat" };

function rlimit(z3, ctx, solver) {
  const stats = z3.solver_get_statistics(ctx, solver);
  z3.stats_inc_ref(ctx, stats);
  try {
    for (let i = 0; i < z3.stats_size(ctx, stats); i++) {
      if (z3.stats_get_key(ctx, stats, i) === "rlimit count") {
        return Number(z3.stats_get_uint_value(ctx, stats, i));
      }
    }
    throw new Error("no 'rlimit count' statistic");
  } finally {
    z3.stats_dec_ref(ctx, stats);
  }
}

const z3 = backend === "wasm" ? await wasmZ3() : nativeZ3(backend);
const cases = JSON.parse(readFileSync(file, "utf8"));
let differ = 0;
for (const c of cases) {
  const proof = c.input.proof;
  const got = await z3.run(proof.smt, proof.budget);
  const want = c.expected.effort;
  const agree = got.outcome === proof.claimed && got.effort === want;
  if (!agree) differ += 1;
  console.log(JSON.stringify({ case: c.case, family: c.family, expected: want, ...got, agree }));
}
console.log(JSON.stringify({ z3: z3.version, backend, cases: cases.length, differ }));
process.exit(differ ? 1 : 0);
