// Build the browser bundle of Scellé's web UI into src/scelle/server/static/app.js.
// The server reads the built file at start-up and puts its SHA-384 (SRI) in the
// pages' script tag; the built file is not committed (see .gitignore).
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const outfile = path.join(here, "..", "src", "scelle", "server", "static", "app.js");

await build({
  entryPoints: [path.join(here, "src", "main.js")],
  bundle: true,
  format: "esm",
  target: ["chrome120", "firefox120", "safari17"],
  minify: true,
  legalComments: "eof",
  sourcemap: false,
  outfile,
  logLevel: "warning",
});
process.stdout.write(`built ${path.relative(process.cwd(), outfile)}\n`);
