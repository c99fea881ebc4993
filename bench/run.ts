// `npm run bench -- <name>` runs bench/<name>.ts. Each benchmark prints its
// figures and, as its last line, one JSON object with the ratio to a baseline
// measured in the same run.
import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith(".bench.ts"))
  .map((f) => f.replace(/\.bench\.ts$/, ""));
const name = process.argv[2];
if (!name || !existsSync(join(here, `${name}.bench.ts`))) {
  console.error(`usage: npm run bench -- <${available.join("|")}>`);
  process.exit(2);
}
const module = (await import(join(here, `${name}.bench.ts`))) as { main: (args: string[]) => Promise<void> };
await module.main(process.argv.slice(3));
