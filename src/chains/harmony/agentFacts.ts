import { BadRequestError } from "../../util/errors.js";
import type { KeyActivity } from "../../util/keyActivity.js";
import { type HarmonyMode, isActivelySigning } from "./nodeMetadata.js";

/** What an agent reports about one Harmony BLS key (wire form, snake_case). */
export interface HarmonyKeyFactsWire {
  /** The node has the key loaded (`blskey`); false when the key is only a file in the key directory. */
  loaded: boolean;
  mode: HarmonyMode | null;
  is_backup: boolean | null;
  shard_id: number | null;
  validator_address?: string;
}

const MODES = new Set(["Normal", "ViewChanging", "Syncing", "Listening"]);

export function parseHarmonyFacts(v: unknown): HarmonyKeyFactsWire {
  const o = obj(v);
  if (typeof o.loaded !== "boolean") throw new BadRequestError("facts.loaded must be a boolean", "facts.loaded");
  const mode = o.mode ?? null;
  if (mode !== null && (typeof mode !== "string" || !MODES.has(mode)))
    throw new BadRequestError("facts.mode must be a Harmony consensus mode", "facts.mode");
  const isBackup = o.is_backup ?? null;
  if (isBackup !== null && typeof isBackup !== "boolean")
    throw new BadRequestError("facts.is_backup must be a boolean", "facts.is_backup");
  const shard = o.shard_id ?? null;
  if (shard !== null && !(typeof shard === "number" && Number.isInteger(shard) && shard >= 0 && shard <= 0xffffffff))
    throw new BadRequestError("facts.shard_id must be an unsigned 32-bit integer", "facts.shard_id");
  const out: HarmonyKeyFactsWire = {
    loaded: o.loaded,
    mode: mode as HarmonyMode | null,
    is_backup: isBackup as boolean | null,
    shard_id: shard as number | null,
  };
  if (o.validator_address !== undefined) {
    if (typeof o.validator_address !== "string" || !/^one1[0-9a-z]{38}$/.test(o.validator_address))
      throw new BadRequestError("facts.validator_address must be a one1… address", "facts.validator_address");
    out.validator_address = o.validator_address;
  }
  return out;
}

/** Harmony: a loaded key on a node in Normal or ViewChanging mode that is not a backup signs. */
export function harmonyActivity(f: HarmonyKeyFactsWire): KeyActivity {
  const active =
    f.loaded && f.mode !== null && f.is_backup !== null && isActivelySigning({ mode: f.mode, isBackup: f.is_backup });
  return { active, certainty: active ? 1 : 0, signerId: null };
}

function obj(v: unknown): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw new BadRequestError("facts must be an object", "facts");
  return v as Record<string, unknown>;
}
