// Build the browser bundle of Scellé's web UI into src/scelle/server/static/app.js.
// The server reads the built file at start-up and puts its SHA-384 (SRI) in the
// pages' script tag; the built file is not committed (see .gitignore).
// Also web/dist/bench-age.js, the reference of bench/browser.py (never served by Scellé).
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const outfile = path.join(here, "..", "src", "scelle", "server", "static", "app.js");
const benchfile = path.join(here, "dist", "bench-age.js");
// The hashing worker (web/src/hashing.js), served as /static/hash.js beside the bundle.
const workerfile = path.join(here, "..", "src", "scelle", "server", "static", "hash.js");

const common = {
  bundle: true,
  format: "esm",
  target: ["chrome120", "firefox120", "safari17"],
  minify: true,
  legalComments: "eof",
  sourcemap: false,
  logLevel: "warning",
};
await build({ ...common, entryPoints: [path.join(here, "src", "main.js")], outfile });
await build({ ...common, entryPoints: [path.join(here, "src", "hash-worker.js")], outfile: workerfile, format: "iife" });
await build({ ...common, entryPoints: [path.join(here, "bench", "age-alone.js")], outfile: benchfile });
for (const file of [outfile, workerfile, benchfile]) process.stdout.write(`built ${path.relative(process.cwd(), file)}\n`);
