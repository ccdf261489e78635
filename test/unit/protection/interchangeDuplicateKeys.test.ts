import { afterEach, describe, expect, it } from "vitest";
import { importInterchange } from "../../../src/protection/ethereum/interchangeImport.js";
import { importSubstrateInterchange } from "../../../src/protection/substrate/interchange.js";
import { ethValidatorsRepository } from "../../../src/store/ethereum/ethValidatorsRepository.js";
import type { Store } from "../../../src/store/types.js";
import { GVR0 } from "../../utils/eth.js";
import { chunked, GVR_HEX, KEY_HEX, ROOT_HEX } from "../../utils/interchange.js";
import { ENGINES, markPostgresSkipped, openTestStore, type TestStore } from "../../utils/stores.js";

/**
 * Issue 14 defect 11: a key named twice in one object of an interchange file was read inconsistently
 * (first wins for metadata, last for records: a file could import under a genesis root it does not
 * declare). Any duplicate key, anywhere, is a malformed file and nothing is imported.
 */
const OTHER_GVR = `0x${"01".repeat(32)}`;
const att = (s: number, t: number) => `{"source_epoch":"${s}","target_epoch":"${t}"}`;
const entry = (inner: string) => `{"pubkey":"${KEY_HEX(1)}",${inner}}`;
const doc = (metadata: string, data: string) => `{"metadata":${metadata},"data":[${data}]}`;
const META = `{"interchange_format_version":"5","genesis_validators_root":"${GVR_HEX}"}`;
const ENTRY = entry(`"signed_blocks":[{"slot":"5"}],"signed_attestations":[${att(1, 2)}]`);

const ETH_CASES: [string, string][] = [
  [
    "genesis root twice (another root first: the file does not declare ours)",
    doc(
      `{"interchange_format_version":"5","genesis_validators_root":"${OTHER_GVR}","genesis_validators_root":"${GVR_HEX}"}`,
      ENTRY,
    ),
  ],
  [
    "format version twice",
    doc(
      `{"interchange_format_version":"5","interchange_format_version":"5","genesis_validators_root":"${GVR_HEX}"}`,
      ENTRY,
    ),
  ],
  ["metadata twice", `{"metadata":${META},"metadata":${META},"data":[${ENTRY}]}`],
  ["data twice", `{"metadata":${META},"data":[${ENTRY}],"data":[]}`],
  [
    "pubkey twice",
    doc(META, `{"pubkey":"${KEY_HEX(2)}","pubkey":"${KEY_HEX(1)}","signed_blocks":[],"signed_attestations":[]}`),
  ],
  [
    "signed_attestations twice",
    doc(META, entry(`"signed_blocks":[],"signed_attestations":[${att(1, 2)}],"signed_attestations":[]`)),
  ],
  [
    "target_epoch twice",
    doc(
      META,
      entry(`"signed_blocks":[],"signed_attestations":[{"source_epoch":"1","target_epoch":"9","target_epoch":"2"}]`),
    ),
  ],
  ["slot twice", doc(META, entry(`"signed_blocks":[{"slot":"9","slot":"5"}],"signed_attestations":[]`))],
  [
    "signing_root twice",
    doc(
      META,
      entry(
        `"signed_blocks":[{"slot":"5","signing_root":"${ROOT_HEX(1)}","signing_root":"${ROOT_HEX(2)}"}],"signed_attestations":[]`,
      ),
    ),
  ],
  ["inside a skipped unknown member", `{"metadata":${META},"data":[${ENTRY}],"extra":{"x":{"a":1,"a":2}}}`],
  [
    "a key spelled with escapes",
    doc(META, `{"pubkey":"${KEY_HEX(1)}","\\u0070ubkey":"${KEY_HEX(2)}","signed_blocks":[],"signed_attestations":[]}`),
  ],
];

const SUB_KEY = `0x${"d4".repeat(32)}`;
const subEntry = (inner: string) =>
  `{"key_type":"babe","public_key":"${SUB_KEY}","low":{"set_id":null,"slot":null,"session":null}${inner}}`;
const subDoc = (keys: string, metadata = `{"format":"slashguard.substrate.interchange","version":"1"}`) =>
  `{"metadata":${metadata},"keys":[${keys}]}`;
const BLOCK = `{"slot":"9","pre_hash":"0x${"11".repeat(32)}","authority_index":1}`;

const SUB_CASES: [string, string][] = [
  ["key_type twice", subDoc(`{"key_type":"audi","key_type":"babe","public_key":"${SUB_KEY}"}`)],
  ["public_key twice", subDoc(`{"key_type":"babe","public_key":"0x${"aa".repeat(32)}","public_key":"${SUB_KEY}"}`)],
  [
    "a watermark twice",
    subDoc(`{"key_type":"babe","public_key":"${SUB_KEY}","low":{"set_id":null,"slot":"5","slot":null,"session":null}}`),
  ],
  ["a record field twice", subDoc(subEntry(`,"babe_blocks":[{"slot":"9","slot":"10","pre_hash":null}]`))],
  ["babe_blocks twice", subDoc(subEntry(`,"babe_blocks":[${BLOCK}],"babe_blocks":[]`))],
  [
    "keys twice",
    `{"metadata":{"format":"slashguard.substrate.interchange","version":"1"},"keys":[${subEntry("")}],"keys":[]}`,
  ],
  [
    "metadata version twice",
    subDoc(subEntry(""), `{"format":"slashguard.substrate.interchange","version":"2","version":"1"}`),
  ],
];

describe.each(ENGINES)("interchange files with a key named twice on %s", (engine) => {
  let ts: TestStore;
  afterEach(async () => ts?.dispose());

  async function ethRows(store: Store): Promise<{ validators: number; records: number; bound: boolean }> {
    return store.tx(
      async (tx) => {
        const n = async (t: string) => Number((await tx.all(`SELECT count(*) AS n FROM ${t}`))[0]!.n);
        return {
          validators: await n("eth_validators"),
          records: (await n("eth_signed_blocks")) + (await n("eth_signed_attestations")),
          bound: (await ethValidatorsRepository.getGenesisRoot(tx)) !== null,
        };
      },
      { readOnly: true },
    );
  }

  it("the well-formed files of these tables import (the cases differ only by the duplicate)", async () => {
    ts = await openTestStore(engine);
    expect(await importInterchange(ts.store, [doc(META, ENTRY)], GVR0)).toEqual({
      validators: 1,
      blocks: 1,
      attestations: 1,
    });
    expect(await importSubstrateInterchange(ts.store, subDoc(subEntry(`,"babe_blocks":[${BLOCK}]`)))).toEqual({
      keys: 1,
      records: 1,
    });
  });

  for (const [name, text] of ETH_CASES) {
    it(`EIP-3076: ${name} is ERR_INTERCHANGE_MALFORMED and imports nothing`, async () => {
      ts = await openTestStore(engine);
      await expect(importInterchange(ts.store, chunked(text, 7), GVR0)).rejects.toMatchObject({
        code: "ERR_INTERCHANGE_MALFORMED",
      });
      expect(await ethRows(ts.store)).toEqual({ validators: 0, records: 0, bound: false });
    });
  }

  for (const [name, text] of SUB_CASES) {
    it(`Substrate: ${name} is ERR_SUBSTRATE_INTERCHANGE_MALFORMED and imports nothing`, async () => {
      ts = await openTestStore(engine);
      await expect(importSubstrateInterchange(ts.store, text)).rejects.toMatchObject({
        code: "ERR_SUBSTRATE_INTERCHANGE_MALFORMED",
      });
      const rows = await ts.store.tx((tx) => tx.all("SELECT count(*) AS n FROM substrate_keys"), { readOnly: true });
      expect(Number(rows[0]!.n)).toBe(0);
    });
  }
});

markPostgresSkipped("interchange files with a key named twice on");
