import {
  BitListType,
  BitVectorType,
  BooleanType,
  ByteListType,
  ByteVectorType,
  ContainerType,
  ListBasicType,
  ListCompositeType,
  type Type,
  UintBigintType,
  UintNumberType,
  VectorBasicType,
  VectorCompositeType,
} from "@chainsafe/ssz";
import { ssz } from "@lodestar/types";
import { describe, expect, it } from "vitest";
import { parseSigningRequest } from "../../../../src/chains/ethereum/signingRequest.js";
import { StrictUintBigintType, StrictUintNumberType } from "../../../../src/chains/ethereum/sszStrictUint.js";
import { loadEthSszTypes } from "../../../../src/chains/ethereum/sszTypes.js";
import { CommonErrorCode } from "../../../../src/util/errors.js";
import { everyType, forkInfo, GENESIS_FORK } from "../../../utils/ethRequests.js";

/**
 * Every integer of every signing type is read at the edge, strictly: a canonical decimal string within
 * the field's range (or an exact JSON integer below 2^53). Anything else is ERR_BAD_REQUEST, never a
 * value wrapped mod 2^64 and signed, nor a number that later fails a whole group-commit batch.
 */
const NET = { genesisForkVersion: GENESIS_FORK };

/** Execution-payload fields that are uint256 (every other integer of a signing request is a u64). */
const UINT256 = new Set(["base_fee_per_gas"]);

const outOfRange = (bits: bigint): [string, unknown][] => [
  [`2^${bits}`, (1n << bits).toString()],
  [`2^${bits} + 5`, ((1n << bits) + 5n).toString()],
  [`2^${bits + 6n}`, (1n << (bits + 6n)).toString()],
  ["80 digits", "9".repeat(80)],
];

const BAD: [string, unknown][] = [
  ["negative", "-1"],
  ["negative zero", "-0"],
  ["plus sign", "+5"],
  ["empty", ""],
  ["hex", "0x10"],
  ["octal-like", "0o7"],
  ["binary-like", "0b1"],
  ["leading space", " 5"],
  ["trailing space", "5 "],
  ["newline", "5\n"],
  ["leading zero", "05"],
  ["exponent", "1e3"],
  ["fraction", "1.0"],
  ["underscore", "1_000"],
  ["unicode digit", "٣"],
  ["full-width digit", "５"],
  ["negative JSON number", -1],
  ["fractional JSON number", 1.5],
  ["unsafe JSON number", 2 ** 60],
  ["boolean", true],
  ["null", null],
  ["object", {}],
  ["array", ["1"]],
];

type Path = (string | number)[];

/** Paths of every decimal-integer leaf of a body (hex strings and enum names are not integers). */
function integerPaths(v: unknown, path: Path = []): Path[] {
  if (typeof v === "string") return /^[0-9]+$/.test(v) ? [path] : [];
  if (typeof v === "number") return [path];
  if (Array.isArray(v)) return v.flatMap((x, i) => integerPaths(x, [...path, i]));
  if (v !== null && typeof v === "object") return Object.entries(v).flatMap(([k, x]) => integerPaths(x, [...path, k]));
  return [];
}

function withValue(body: unknown, path: Path, value: unknown): unknown {
  const copy = structuredClone(body) as Record<string | number, unknown>;
  let o = copy;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
  o[path[path.length - 1]!] = value;
  return copy;
}

describe("signing requests: integers at the edge", async () => {
  const t = await loadEthSszTypes("mainnet");
  // every type, plus full blocks whose bodies carry execution payloads (u64 and one uint256 field)
  const requests = everyType(120);
  for (const fork of ["deneb", "electra"] as const) {
    const type = ssz[fork].BeaconBlock as unknown as Type<Record<string, any>>;
    const block = type.defaultValue();
    block.slot = 3845;
    block.body.executionPayload.withdrawals = [ssz.capella.Withdrawal.defaultValue()];
    requests.push({
      name: `BLOCK_V2 (full ${fork} block)`,
      body: {
        type: "BLOCK_V2",
        fork_info: forkInfo(),
        beacon_block: { version: fork.toUpperCase(), block: type.toJson(block) },
      },
      root: "",
    });
  }

  it("reads every unsigned integer of every SSZ type tree strictly (no library reader left)", () => {
    const seen = new Set<unknown>();
    const lax: string[] = [];
    const walk = (x: Type<unknown>, path: string): void => {
      if (seen.has(x)) return;
      seen.add(x);
      if (x instanceof UintBigintType || x instanceof UintNumberType) {
        if (!(x instanceof StrictUintBigintType || x instanceof StrictUintNumberType)) lax.push(path);
      } else if (x instanceof ContainerType) {
        for (const [k, f] of Object.entries(x.fields)) walk(f as Type<unknown>, `${path}.${k}`);
      } else if (
        x instanceof ListCompositeType ||
        x instanceof VectorCompositeType ||
        x instanceof ListBasicType ||
        x instanceof VectorBasicType
      ) {
        walk(x.elementType as Type<unknown>, `${path}[]`);
      } else if (
        !(
          x instanceof ByteVectorType ||
          x instanceof ByteListType ||
          x instanceof BitListType ||
          x instanceof BitVectorType ||
          x instanceof BooleanType
        )
      ) {
        lax.push(`${path}: unknown type ${x.constructor.name}`);
      }
    };
    for (const [name, v] of Object.entries(t)) {
      if (v instanceof Object && "hashTreeRoot" in v) walk(v as Type<unknown>, name);
      else if (typeof v === "object" && v !== null)
        for (const [k, x] of Object.entries(v)) walk(x as Type<unknown>, `${name}.${k}`);
    }
    expect(lax).toEqual([]);
    expect(seen.size).toBeGreaterThan(50);
  });

  it("finds integer fields in every signing type (the table below is not empty)", () => {
    for (const r of requests) expect(integerPaths(r.body).length, r.name).toBeGreaterThan(0);
  });

  for (const r of requests) {
    describe(r.name, () => {
      for (const path of integerPaths(r.body)) {
        it(`${path.join(".")}: every non-canonical or out-of-range form is ERR_BAD_REQUEST`, () => {
          const accepted: string[] = [];
          const bits = UINT256.has(String(path[path.length - 1])) ? 256n : 64n;
          for (const [name, value] of [...outOfRange(bits), ...BAD]) {
            try {
              parseSigningRequest(withValue(r.body, path, value), t, NET);
              accepted.push(name);
            } catch (e) {
              expect((e as { code?: string }).code, `${name}: ${String(e)}`).toBe(CommonErrorCode.BadRequest);
            }
          }
          expect(accepted).toEqual([]);
        });
      }
    });
  }

  it("the largest u64 is accepted where a field is a u64, and zero everywhere", () => {
    const exit = requests.find((r) => r.name === "VOLUNTARY_EXIT")!;
    const max = "18446744073709551615";
    const req = parseSigningRequest(withValue(exit.body, ["voluntary_exit", "epoch"], max), t, NET);
    expect(req.epoch).toBe(2n ** 64n - 1n);
    for (const r of requests) {
      for (const path of integerPaths(r.body)) {
        expect(
          () => parseSigningRequest(withValue(r.body, path, "0"), t, NET),
          `${r.name} ${path.join(".")}`,
        ).not.toThrow();
      }
    }
  });

  it("an exact JSON integer below 2^53 is the same value as its decimal string (Web3Signer's own examples)", () => {
    const exit = requests.find((r) => r.name === "VOLUNTARY_EXIT")!;
    const asString = parseSigningRequest(withValue(exit.body, ["voluntary_exit", "validator_index"], "12"), t, NET);
    const asNumber = parseSigningRequest(withValue(exit.body, ["voluntary_exit", "validator_index"], 12), t, NET);
    expect(asNumber.signingRoot).toEqual(asString.signingRoot);
  });
});
