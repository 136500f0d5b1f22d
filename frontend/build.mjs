// Build every frontend/src/*.ts (one island each) into src/knotwork/web/static/dist/NAME.js.
// Shared code lives in frontend/src/lib/ and is bundled into the islands that import it.
import { build } from "esbuild";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const sources = path.join(here, "src");
const out = path.join(here, "..", "src", "knotwork", "web", "static", "dist");
const entryPoints = readdirSync(sources)
  .filter((name) => name.endsWith(".ts") && !name.endsWith(".d.ts"))
  .map((name) => path.join(sources, name));

await build({
  entryPoints,
  outdir: out,
  bundle: true,
  format: "esm",
  target: "es2020",
  minify: true,
  sourcemap: false,
  legalComments: "none",
  logLevel: "warning",
});
console.log(`built ${entryPoints.length} island(s) into ${path.relative(process.cwd(), out)}`);
