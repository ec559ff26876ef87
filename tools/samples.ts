/**
 * Regenerates samples/: deterministic RAM images, dirty rounds and a disk are written to a
 * temporary directory, then `migscope emit` turns them into the sample streams. The exact
 * commands are written to samples/README.md. Run with `deno task samples`.
 */
import { main } from "../src/cli/main.ts";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const PAGE = 4096;

/** xorshift32: the same bytes on every machine. */
export function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

/** A RAM image: ~70 % zero pages, random pages, and text-like patterned pages. */
export function ramImage(pages: number, seed: number): Uint8Array {
  const r = prng(seed);
  const img = new Uint8Array(pages * PAGE);
  for (let p = 0; p < pages; p++) {
    const kind = r() % 10;
    const page = img.subarray(p * PAGE, (p + 1) * PAGE);
    if (kind < 7) continue;
    if (kind < 9) { for (let i = 0; i < PAGE; i++) page[i] = r() & 0xff; }
    else for (let i = 0; i < PAGE; i++) page[i] = 0x20 + ((i * 7 + p) % 95);
  }
  return img;
}

/** The next dirty round: small edits (XBZRLE-friendly), rewritten pages, zero toggles. */
export function dirtyRound(prev: Uint8Array, seed: number, hot: number): Uint8Array {
  const r = prng(seed);
  const img = prev.slice();
  const pages = img.length / PAGE;
  for (let k = 0; k < hot; k++) {
    const p = k * 3 % pages;
    const at = p * PAGE + (r() % (PAGE - 16));
    for (let i = 0; i < 4; i++) img[at + i] = r() & 0xff;
  }
  for (let k = 0; k < hot / 8; k++) {
    const p = r() % pages;
    for (let i = 0; i < PAGE; i++) img[p * PAGE + i] = r() & 0xff;
  }
  for (let k = 0; k < 32; k++) {
    const p = (pages - 64 + k) % pages;
    const page = img.subarray(p * PAGE, (p + 1) * PAGE);
    if (page.some((b) => b !== 0)) page.fill(0);
    else page[100] = 1;
  }
  return img;
}

/** A disk image: random chunks, a partly written chunk, a 0x5a chunk, the rest zero. */
export function diskImage(size: number, seed: number): Uint8Array {
  const r = prng(seed);
  const d = new Uint8Array(size);
  const fill = (from: number, len: number) => {
    for (let i = 0; i < len; i++) d[from + i] = r() & 0xff;
  };
  fill(1 << 20, 1 << 20);
  fill(5 * (1 << 20) + 4096, 8192);
  d.fill(0x5a, 6 << 20, 7 << 20);
  fill(size - 65536, 65536);
  return d;
}

/** Writes inputs into `dir` and returns the emit argument lists for each sample. */
export async function writeInputs(dir: string): Promise<Record<string, string[]>> {
  const ram0 = ramImage(2048, 1);
  const rounds = [dirtyRound(ram0, 2, 300)];
  rounds.push(dirtyRound(rounds[0], 3, 300));
  rounds.push(dirtyRound(rounds[1], 4, 300));
  await Deno.writeFile(`${dir}/pc.ram.0`, ram0);
  for (const [i, img] of rounds.entries()) await Deno.writeFile(`${dir}/pc.ram.${i + 1}`, img);
  await Deno.writeFile(`${dir}/small.ram`, ramImage(1024, 7));
  await Deno.writeFile(`${dir}/disk0.raw`, diskImage(8 << 20, 9));
  return {
    "small-xbzrle.mig": [
      "--ram",
      `pc.ram=${dir}/pc.ram.0`,
      "--round",
      `pc.ram=${dir}/pc.ram.1`,
      "--round",
      `pc.ram=${dir}/pc.ram.2`,
      "--round",
      `pc.ram=${dir}/pc.ram.3`,
      "--xbzrle",
      "--xbzrle-cache",
      "4M",
    ],
    "small-block.mig": [
      "--ram",
      `pc.ram=${dir}/small.ram`,
      "--disk",
      `disk0=${dir}/disk0.raw`,
      "--zero-blocks",
    ],
  };
}

if (import.meta.main) {
  const dir = await Deno.makeTempDir({ prefix: "migscope-samples-" });
  const lines = [
    "# samples",
    "",
    "Small streams made by `migscope emit` from deterministic inputs (tools/samples.ts writes the",
    "inputs to a temporary directory `$IN`, then runs these commands). Regenerate with",
    "`deno task samples`; tests check that the result is byte-identical.",
    "",
  ];
  for (const [name, args] of Object.entries(await writeInputs(dir))) {
    const code = await main(["emit", ...args, "-o", `${ROOT}samples/${name}`]);
    if (code !== 0) Deno.exit(code);
    lines.push(
      `- \`${name}\`: \`migscope emit ${
        args.join(" ").replaceAll(dir, "$IN")
      } -o samples/${name}\``,
    );
  }
  await Deno.writeTextFile(`${ROOT}samples/README.md`, lines.join("\n") + "\n");
  await Deno.remove(dir, { recursive: true });
}
