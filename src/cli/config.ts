import { readFileSync } from "node:fs";
import { parse } from "yaml";
import type { z } from "zod";
import { AppError } from "../util/errors.js";

export enum ConfigErrorCode {
  Invalid = "ERR_CONFIG_INVALID",
  Unreadable = "ERR_CONFIG_UNREADABLE",
}

export class ConfigError extends AppError<{ code: ConfigErrorCode; file: string; path?: string }> {}

/** Reads a YAML config file; an absent path gives an empty document. */
export function readYamlFile(file: string | undefined): Record<string, unknown> {
  if (file === undefined) return {};
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new ConfigError(
      { code: ConfigErrorCode.Unreadable, file },
      `cannot read config ${file}: ${(e as Error).message}`,
    );
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new ConfigError(
      { code: ConfigErrorCode.Invalid, file },
      `config ${file} is not valid YAML: ${(e as Error).message}`,
    );
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== "object" || Array.isArray(doc)) {
    throw new ConfigError({ code: ConfigErrorCode.Invalid, file }, `config ${file} must be a YAML mapping`);
  }
  return doc as Record<string, unknown>;
}

/** Validates one part of a config document; errors name the file and the path of the bad field. */
export function validateSection<T>(schema: z.ZodType<T>, value: unknown, file: string, section: string): T {
  const r = schema.safeParse(value ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const path = [section, ...issue.path.map(String)].filter((s) => s.length > 0).join(".");
  throw new ConfigError({ code: ConfigErrorCode.Invalid, file, path }, `config ${file}: ${path}: ${issue.message}`);
}

/** A flag given on the command line wins over the config file, which wins over the default. */
export function pick<T>(flag: T | undefined, fromFile: T | undefined, fallback: T): T {
  return flag ?? fromFile ?? fallback;
}
