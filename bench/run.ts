// `npm run bench -- <name>` runs bench/<name>.bench.ts. Each benchmark prints its
// figures and, as its last line, one JSON object with the ratio to a baseline
// measured in the same run. `npm run bench -- report` runs them all and writes
// docs/benchmarks.md (bench/report/).
import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith(".bench.ts"))
  .map((f) => f.replace(/\.bench\.ts$/, ""));
const name = process.argv[2];
const path = name === "report" ? join(here, "report", "report.ts") : join(here, `${name}.bench.ts`);
if (!name || !existsSync(path)) {
  console.error(`usage: npm run bench -- <${[...available, "report"].join("|")}>`);
  process.exit(2);
}
const module = (await import(path)) as { main: (args: string[]) => Promise<void> };
await module.main(process.argv.slice(3));
