import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv } from "ajv";
import { afterEach, describe, expect, it } from "vitest";
import { InterchangeErrorCode as IC } from "../../../src/chains/ethereum/interchange/errors.js";
import { ProtectionErrorCode as C } from "../../../src/chains/ethereum/protectionErrors.js";
import { EthereumProtection } from "../../../src/protection/ethereum/ethereumProtection.js";
import { exportInterchange } from "../../../src/protection/ethereum/interchangeExport.js";
import { importInterchange } from "../../../src/protection/ethereum/interchangeImport.js";
import { ethereumStatus } from "../../../src/protection/ethereum/status.js";
import { nullLogger } from "../../../src/util/logger.js";
import { att, blk, GVR0, pubkey, root } from "../../utils/eth.js";
import { chunked, GVR_HEX, interchange, KEY_HEX, ROOT_HEX, Sink } from "../../utils/interchange.js";
import { ENGINES, markPostgresSkipped, openTestStore, type TestStore } from "../../utils/stores.js";
import { SPECS_DIR, skipWithoutVectors } from "../../utils/vectors.js";

/** The EIP-3076 JSON schema is read from the shared specs; only the schema test needs it. */
const SCHEMA = { specs: ["eip-3076-interchange-schema.json"] };
const compileSchema = () =>
  new Ajv({ strict: false }).compile(
    JSON.parse(readFileSync(join(SPECS_DIR, "eip-3076-interchange-schema.json"), "utf8")),
  );

describe.each(ENGINES)("interchange on %s", (engine) => {
  let ts: TestStore;
  afterEach(async () => ts?.dispose());

  const open = async (): Promise<EthereumProtection> => {
    ts = await openTestStore(engine);
    return EthereumProtection.open({ genesisValidatorsRoot: GVR0 }, { store: ts.store, logger: nullLogger });
  };

  async function exportText(pubkeys?: Uint8Array[]): Promise<string> {
    const sink = new Sink();
    await exportInterchange(ts.store, sink, GVR0, pubkeys);
    return sink.text();
  }

  async function status(): Promise<string[]> {
    const lines: string[] = [];
    await ethereumStatus(ts.store, (l) => lines.push(l), { json: true });
    return lines;
  }

  it("export is schema-valid and round-trips through a fresh database", async (ctx) => {
    skipWithoutVectors(ctx, SCHEMA);
    const validate = compileSchema();
    const p = await open();
    for (let k = 0; k < 3; k++) {
      for (let e = 1; e <= 5; e++) await p.checkAndRecord(att(pubkey(k), e - 1, e, e));
      await p.checkAndRecord(blk(pubkey(k), 100 + k, 7));
      await p.checkAndRecord(blk(pubkey(k), 200 + k, 0));
    }
    await p.close();
    const text = await exportText();
    const doc = JSON.parse(text);
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
    expect(doc.data).toHaveLength(3);
    expect(doc.data[0].signed_attestations).toHaveLength(5);

    const first = ts;
    const before = await status();
    ts = await openTestStore(engine);
    try {
      const s = await importInterchange(ts.store, chunked(text, 97), GVR0);
      expect(s).toEqual({ validators: 3, blocks: 6, attestations: 15 });
      expect(await exportText()).toBe(text);
      expect(await status()).toEqual(before);
    } finally {
      await first.dispose();
    }
  });

  it("imports records that still protect: double votes, surrounds, watermarks, repeats", async () => {
    const p = await open();
    const file = interchange([
      {
        pubkey: KEY_HEX(1),
        signed_blocks: [{ slot: "100", signing_root: ROOT_HEX(1) }, { slot: "90" }],
        signed_attestations: [
          { source_epoch: "10", target_epoch: "11", signing_root: ROOT_HEX(1) },
          { source_epoch: "5", target_epoch: "20" },
        ],
      },
    ]);
    await importInterchange(ts.store, [file], GVR0);
    const k = new Uint8Array(Buffer.from(KEY_HEX(1).slice(2), "hex"));
    await expect(p.checkAndRecord(blk(k, 100, 2))).rejects.toMatchObject({ code: C.BlockDoubleProposal });
    expect(await p.checkAndRecord(blk(k, 100, 1))).toBe("repeat");
    await expect(p.checkAndRecord(blk(k, 80, 1))).rejects.toMatchObject({ code: C.BlockBelowLowWatermark });
    await expect(p.checkAndRecord(blk(k, 90, 1))).rejects.toMatchObject({ code: C.BlockDoubleProposal });
    expect(await p.checkAndRecord(blk(k, 95, 1))).toBe("new");
    await expect(p.checkAndRecord(att(k, 6, 19, 1))).rejects.toMatchObject({ code: C.AttestationSurrounded });
    await expect(p.checkAndRecord(att(k, 4, 21, 1))).rejects.toMatchObject({ code: C.AttestationSurrounding });
    await expect(p.checkAndRecord(att(k, 5, 20, 1))).rejects.toMatchObject({ code: C.AttestationDoubleVote });
    expect(await p.checkAndRecord(att(k, 20, 21, 1))).toBe("new");
    await p.close();
  });

  it("merges duplicate keys and conflicting records conservatively", async () => {
    const p = await open();
    const entry = (blocks: unknown[], atts: unknown[]) => ({
      pubkey: KEY_HEX(2),
      signed_blocks: blocks,
      signed_attestations: atts,
    });
    const file = interchange([
      entry(
        [{ slot: "50", signing_root: ROOT_HEX(1) }],
        [{ source_epoch: "3", target_epoch: "8", signing_root: ROOT_HEX(1) }],
      ),
      entry(
        [{ slot: "50", signing_root: ROOT_HEX(2) }],
        [{ source_epoch: "6", target_epoch: "8", signing_root: ROOT_HEX(1) }],
      ),
      entry([{ slot: "51", signing_root: ROOT_HEX(3) }], []),
      entry([{ slot: "51", signing_root: ROOT_HEX(3) }], []),
    ]);
    await importInterchange(ts.store, [file], GVR0);
    const k = new Uint8Array(Buffer.from(KEY_HEX(2).slice(2), "hex"));
    await expect(p.checkAndRecord(blk(k, 50, 1))).rejects.toMatchObject({ code: C.BlockDoubleProposal });
    expect(await p.checkAndRecord(blk(k, 51, 3))).toBe("repeat");
    // both sources at target 8 are kept: 4->9 surrounds nothing of 3->8 but is surrounded-free; 7->7 is surrounded by 6->8
    await expect(p.checkAndRecord(att(k, 7, 7, 1))).rejects.toMatchObject({ code: C.AttestationSurrounded });
    await expect(p.checkAndRecord(att(k, 5, 9, 1))).rejects.toMatchObject({ code: C.AttestationSurrounding });
    await expect(p.checkAndRecord(att(k, 3, 8, 1))).rejects.toMatchObject({ code: C.AttestationDoubleVote });
    await p.close();
  });

  it("a stale import never lowers protection (watermarks only rise)", async () => {
    const p = await open();
    const k = pubkey(3);
    await p.checkAndRecord(att(k, 100, 101, 1));
    await p.checkAndRecord(blk(k, 5000, 1));
    await importInterchange(
      ts.store,
      [
        interchange([
          {
            pubkey: `0x${Buffer.from(k).toString("hex")}`,
            signed_blocks: [{ slot: "10" }],
            signed_attestations: [{ source_epoch: "1", target_epoch: "2" }],
          },
        ]),
      ],
      GVR0,
    );
    await expect(p.checkAndRecord(blk(k, 20, 1))).rejects.toMatchObject({ code: C.BlockBelowLowWatermark });
    await expect(p.checkAndRecord(att(k, 50, 60, 1))).rejects.toMatchObject({
      code: C.AttestationSourceBelowLowWatermark,
    });
    await expect(p.checkAndRecord(att(k, 100, 100, 1))).rejects.toMatchObject({
      code: C.AttestationTargetBelowLowWatermark,
    });
    await expect(p.checkAndRecord(att(k, 99, 99, 1))).rejects.toMatchObject({
      code: C.AttestationSourceBelowLowWatermark,
    });
    await p.close();
  });

  const bad: [string, string, IC | C][] = [
    [
      "truncated",
      interchange([{ pubkey: KEY_HEX(1), signed_blocks: [], signed_attestations: [] }]).slice(0, 120),
      IC.Truncated,
    ],
    ["wrong version", interchange([], GVR_HEX, "4"), IC.Version],
    ["wrong genesis root", interchange([], ROOT_HEX(9)), IC.GenesisMismatch],
    ["not JSON", "hello", IC.Malformed],
    ["top-level array", "[]", IC.Malformed],
    ["missing metadata", JSON.stringify({ data: [] }), IC.Malformed],
    [
      "missing data",
      JSON.stringify({ metadata: { interchange_format_version: "5", genesis_validators_root: GVR_HEX } }),
      IC.Malformed,
    ],
    ["short pubkey", interchange([{ pubkey: "0x1234", signed_blocks: [], signed_attestations: [] }]), IC.Malformed],
    ["missing signed_blocks", interchange([{ pubkey: KEY_HEX(1), signed_attestations: [] }]), IC.Malformed],
    [
      "negative slot",
      interchange([{ pubkey: KEY_HEX(1), signed_blocks: [{ slot: "-1" }], signed_attestations: [] }]),
      IC.Malformed,
    ],
    [
      "slot above u64",
      interchange([{ pubkey: KEY_HEX(1), signed_blocks: [{ slot: "18446744073709551616" }], signed_attestations: [] }]),
      IC.Malformed,
    ],
    [
      "fractional epoch",
      interchange([
        { pubkey: KEY_HEX(1), signed_blocks: [], signed_attestations: [{ source_epoch: "1.5", target_epoch: "2" }] },
      ]),
      IC.Malformed,
    ],
    [
      "missing target",
      interchange([{ pubkey: KEY_HEX(1), signed_blocks: [], signed_attestations: [{ source_epoch: "1" }] }]),
      IC.Malformed,
    ],
    [
      "bad root hex",
      interchange([
        { pubkey: KEY_HEX(1), signed_blocks: [{ slot: "1", signing_root: "0xzz" }], signed_attestations: [] },
      ]),
      IC.Malformed,
    ],
    ["trailing garbage", `${interchange([])} x`, IC.Malformed],
    ["giant string", `{"metadata":{"interchange_format_version":"${"5".repeat(100_000)}"}}`, IC.TooLarge],
  ];
  for (const [name, text, code] of bad) {
    it(`refuses a file with ${name} and changes nothing`, async () => {
      const p = await open();
      await p.checkAndRecord(att(pubkey(9), 1, 2, 1));
      const before = await exportText();
      await expect(importInterchange(ts.store, chunked(text, 50), GVR0)).rejects.toMatchObject({ code });
      expect(await exportText()).toBe(before);
      await p.close();
    });
  }

  it("an import that fails late rolls back the records it already staged", async () => {
    const p = await open();
    const good = { pubkey: KEY_HEX(5), signed_blocks: [{ slot: "7" }], signed_attestations: [] };
    const text = interchange([
      good,
      good,
      { pubkey: KEY_HEX(6), signed_blocks: [{ slot: "x" }], signed_attestations: [] },
    ]);
    await expect(importInterchange(ts.store, [text], GVR0)).rejects.toMatchObject({ code: IC.Malformed });
    expect(await status()).toEqual([]);
    await p.close();
  });

  it("accepts unknown keys and metadata after data", async () => {
    await open();
    const text = JSON.stringify({
      data: [
        {
          pubkey: KEY_HEX(1),
          extra: { deep: [1, { x: null }] },
          signed_blocks: [{ slot: "3", note: "x" }],
          signed_attestations: [],
        },
      ],
      comment: "exported by hand",
      metadata: { genesis_validators_root: GVR_HEX, interchange_format_version: "5" },
    });
    expect(await importInterchange(ts.store, [text], GVR0)).toEqual({ validators: 1, blocks: 1, attestations: 0 });
  });

  it("keymanager-style import only takes the listed keys", async () => {
    await open();
    const text = interchange([
      { pubkey: KEY_HEX(1), signed_blocks: [{ slot: "3" }], signed_attestations: [] },
      { pubkey: KEY_HEX(2), signed_blocks: [{ slot: "4" }], signed_attestations: [] },
    ]);
    const s = await importInterchange(ts.store, [text], GVR0, { onlyPubkeys: new Set([KEY_HEX(2)]) });
    expect(s.validators).toBe(1);
    const doc = JSON.parse(await exportText());
    expect(doc.data.map((d: { pubkey: string }) => d.pubkey)).toEqual([KEY_HEX(2)]);
  });

  it("export of selected keys lists each of them", async () => {
    const p = await open();
    await p.checkAndRecord(att(pubkey(1), 1, 2, 1));
    await p.registerValidators([pubkey(2)]);
    const doc = JSON.parse(await exportText([pubkey(1), pubkey(2)]));
    expect(doc.data).toHaveLength(2);
    expect(doc.data[1].signed_attestations).toEqual([]);
    expect(root(1)).toHaveLength(32);
    await p.close();
  });
});

markPostgresSkipped("interchange on");
