import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { z } from "zod";
import { HsmError, HsmErrorCode } from "./errors.js";

/** Which key of a token: its label or its CKA_ID. */
export type KeySelector = { label: string } | { id: Uint8Array };

export function describeSelector(s: KeySelector): string {
  return "label" in s ? `label "${s.label}"` : `id ${Buffer.from(s.id).toString("hex")}`;
}

/** Where a key lives: module, token, PIN file and the key's label or id. */
export interface Pkcs11KeyRef {
  module: string;
  tokenLabel: string;
  pinFile: string;
  key: KeySelector;
}

/**
 * The `pkcs11:` block of the CometBFT (`key: {pkcs11: …}`) and Substrate (`pkcs11_keys: [{key_type,
 * pkcs11: …}]`) configs. A key is named by `key_label` or by `key_id` (hex CKA_ID), not both.
 */
export const Pkcs11BlockSchema = z
  .strictObject({
    module: z.string().min(1),
    token_label: z.string().min(1).max(32),
    pin_file: z.string().min(1),
    key_label: z.string().min(1).optional(),
    key_id: z
      .string()
      .regex(/^(0x)?([0-9a-fA-F]{2})+$/, "must be hex bytes")
      .optional(),
  })
  .refine((b) => (b.key_label === undefined) !== (b.key_id === undefined), {
    message: "give exactly one of key_label and key_id",
  });

export type Pkcs11Block = z.infer<typeof Pkcs11BlockSchema>;

/** Paths in the block are relative to the config file's folder (a bare module name is left to the loader). */
export function keyRefOf(b: Pkcs11Block, baseDir: string): Pkcs11KeyRef {
  return {
    module: b.module.includes("/") ? resolve(baseDir, b.module) : b.module,
    tokenLabel: b.token_label,
    pinFile: resolve(baseDir, b.pin_file),
    key:
      b.key_label !== undefined
        ? { label: b.key_label }
        : { id: new Uint8Array(Buffer.from(b.key_id!.replace(/^0x/, ""), "hex")) },
  };
}

export function describeKeyRef(r: Pkcs11KeyRef): string {
  return `pkcs11 token "${r.tokenLabel}" key ${describeSelector(r.key)}`;
}

/** The PIN is the file's content without its final line break. */
export function readPinFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new HsmError(
      { code: HsmErrorCode.PinFile },
      `cannot read PIN file ${file}: ${(e as NodeJS.ErrnoException).code ?? "error"}`,
    );
  }
  const pin = text.replace(/\r?\n$/, "");
  if (pin.length === 0 || pin.includes("\n"))
    throw new HsmError({ code: HsmErrorCode.PinFile }, `PIN file ${file} must hold the PIN on one line`);
  return pin;
}
