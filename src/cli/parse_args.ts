/**
 * Command-line options: the subset of node:util's `parseArgs` the commands use (boolean and
 * string options, `multiple`, one-letter `short` names, `--name=value`, `--` ending options),
 * without loading Node's compatibility layer at start-up. Mistakes throw an error with the
 * same `code`s as node:util, which src/cli/help.ts words for the user.
 * @module
 */

/** One option's definition. */
export interface OptionSpec {
  type: "boolean" | "string";
  multiple?: boolean;
  short?: string;
  default?: boolean | string;
}

type Values<O extends Record<string, OptionSpec>> = {
  [K in keyof O]?: O[K]["type"] extends "boolean" ? boolean
    : O[K]["multiple"] extends true ? string[]
    : string;
};

/** An argument mistake; `code` says which kind. */
export class ArgumentError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = "ArgumentError";
  }
}

function store(values: Record<string, unknown>, name: string, spec: OptionSpec, v: unknown) {
  if (spec.multiple) ((values[name] ??= []) as unknown[]).push(v);
  else values[name] = v;
}

/**
 * Parses `args` against `options`.
 *
 * @example
 * ```ts
 * import { parseArgs } from "./parse_args.ts";
 * const { values, positionals } = parseArgs({
 *   args: ["--json", "--out=dir", "x.bin", "-o", "y"],
 *   allowPositionals: true,
 *   options: { json: { type: "boolean" }, out: { type: "string" }, output: { type: "string", short: "o" } },
 * });
 * if (!values.json || values.out !== "dir" || values.output !== "y") throw new Error("values");
 * if (positionals.join() !== "x.bin") throw new Error("positionals");
 * ```
 */
export function parseArgs<O extends Record<string, OptionSpec>>(config: {
  args: string[];
  options: O;
  allowPositionals?: boolean;
}): { values: Values<O>; positionals: string[] } {
  const { args, options } = config;
  const values: Record<string, unknown> = {};
  const positionals: string[] = [];
  const byShort = new Map(
    Object.entries(options).filter(([, s]) => s.short).map(([n, s]) => [s.short!, n]),
  );
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      if (!config.allowPositionals) {
        throw new ArgumentError(
          "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL",
          `Unexpected argument '${arg}'`,
        );
      }
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const raw = arg.startsWith("--") ? arg.slice(2, eq < 0 ? undefined : eq) : arg.slice(1);
    const name = arg.startsWith("--") ? raw : byShort.get(raw) ?? "";
    const spec = options[name];
    if (!spec || (!arg.startsWith("--") && raw.length !== 1)) {
      throw new ArgumentError("ERR_PARSE_ARGS_UNKNOWN_OPTION", `Unknown option '${arg}'`);
    }
    if (spec.type === "boolean") {
      if (eq >= 0) {
        throw new ArgumentError(
          "ERR_PARSE_ARGS_INVALID_OPTION_VALUE",
          `Option '${arg.slice(0, eq)}' takes no value`,
        );
      }
      store(values, name, spec, true);
      continue;
    }
    let v: string | undefined = eq >= 0 && arg.startsWith("--") ? arg.slice(eq + 1) : args[++i];
    if (v === undefined || (eq < 0 && v.startsWith("-") && v !== "-" && v.length > 1)) {
      throw new ArgumentError(
        "ERR_PARSE_ARGS_INVALID_OPTION_VALUE",
        `Option '${arg} <value>' argument missing`,
      );
    }
    v ??= "";
    store(values, name, spec, v);
  }
  for (const [name, spec] of Object.entries(options)) {
    if (values[name] === undefined && spec.default !== undefined) values[name] = spec.default;
  }
  return { values: values as Values<O>, positionals };
}
