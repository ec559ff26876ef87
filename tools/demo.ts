/**
 * `deno task demo`: inspect the bundled sample, wherever the task is run from.
 */
import { fileURLToPath } from "node:url";
import { main } from "../src/cli/main.ts";

const sample = fileURLToPath(new URL("../samples/small-xbzrle.mig", import.meta.url));
Deno.exitCode = await main(["inspect", sample, ...Deno.args]);
