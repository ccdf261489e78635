import type { InterchangeMetadata } from "../../chains/ethereum/index.js";
import { InterchangeError, InterchangeErrorCode, InterchangeV5Reader } from "../../chains/ethereum/index.js";
import type { SqlTx, Store } from "../../store/index.js";
import {
  ethValidatorsRepository,
  lockForImport,
  ethInterchangeRepository as repo,
  type StagedAttestation,
  type StagedBlock,
} from "../../store/index.js";
import { bytesEqual, toHex } from "../../util/hex.js";
import { assertGenesis } from "./ethereumProtection.js";

export interface ImportOptions {
  /** Called now and then with the number of characters read so far. */
  onProgress?: (charsRead: number) => void;
  /** Only these public keys (lower-case 0x-hex) are imported; the others are skipped (keymanager import). */
  onlyPubkeys?: ReadonlySet<string>;
}

export interface ImportSummary {
  validators: number;
  blocks: number;
  attestations: number;
}

/** Rows staged per statement: large enough to amortise a round trip, small enough to keep memory flat. */
const STAGE_CHUNK = 2000;

/**
 * Imports an EIP-3076 v5 interchange atomically: the file is streamed (never held in memory) into
 * staging tables inside one transaction and merged at the end; any error — malformed, truncated, wrong
 * version or genesis root — rolls everything back. The database must be (or becomes) bound to `genesisRoot`.
 */
export async function importInterchange(
  store: Store,
  input: AsyncIterable<string | Buffer> | Iterable<string | Buffer>,
  genesisRoot: Uint8Array,
  opts: ImportOptions = {},
): Promise<ImportSummary> {
  return store.tx(async (tx) => {
    await lockForImport(tx);
    const existing = await ethValidatorsRepository.getGenesisRoot(tx);
    assertGenesis(existing ?? (await ethValidatorsRepository.bindGenesisRoot(tx, genesisRoot)), genesisRoot);
    await repo.createStaging(tx);

    const stage = new Stager(tx, opts.onlyPubkeys);
    let metadata: InterchangeMetadata | null = null;
    const reader = new InterchangeV5Reader({
      metadata: (m) => {
        metadata = m;
        if (!bytesEqual(m.genesisValidatorsRoot, genesisRoot)) throw genesisMismatch(genesisRoot, m);
      },
      pubkey: (entry, pubkey) => stage.entry(entry, pubkey),
      block: (entry, b) => stage.blocks.push({ entry, ...b }),
      attestation: (entry, a) => stage.atts.push({ entry, ...a }),
    });
    const decoder = new TextDecoder("utf-8", { fatal: true });
    try {
      for await (const chunk of input) {
        reader.write(typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true }));
        await stage.flush(false);
        opts.onProgress?.(reader.position);
      }
      reader.write(decoder.decode());
    } catch (e) {
      if (e instanceof TypeError && /encoded data|decode/i.test(e.message)) {
        throw new InterchangeError(
          { code: InterchangeErrorCode.Malformed, path: "file" },
          "interchange file is not valid UTF-8",
        );
      }
      throw e;
    }
    reader.end();
    if (metadata === null)
      throw new InterchangeError({ code: InterchangeErrorCode.Malformed, path: "metadata" }, "metadata missing");
    await stage.flush(true);

    const validators = await repo.registerStagedValidators(tx);
    const blocks = await repo.mergeBlocks(tx);
    const attestations = await repo.mergeAttestations(tx);
    await repo.dropStaging(tx);
    return { validators, blocks, attestations };
  });
}

class Stager {
  readonly blocks: StagedBlock[] = [];
  readonly atts: StagedAttestation[] = [];
  private readonly entries: { entry: number; pubkey: Uint8Array }[] = [];

  constructor(
    private readonly tx: SqlTx,
    private readonly only: ReadonlySet<string> | undefined,
  ) {}

  entry(entry: number, pubkey: Uint8Array): void {
    // Records of a skipped key stay staged but never join a registered key, so they are never merged.
    if (this.only !== undefined && !this.only.has(toHex(pubkey))) return;
    this.entries.push({ entry, pubkey });
  }

  async flush(all: boolean): Promise<void> {
    const min = all ? 1 : STAGE_CHUNK;
    if (this.entries.length >= min) await repo.stageEntries(this.tx, this.entries.splice(0));
    while (this.blocks.length >= min) await repo.stageBlocks(this.tx, this.blocks.splice(0, STAGE_CHUNK));
    while (this.atts.length >= min) await repo.stageAttestations(this.tx, this.atts.splice(0, STAGE_CHUNK));
  }
}

function genesisMismatch(expected: Uint8Array, m: InterchangeMetadata): InterchangeError {
  return new InterchangeError(
    { code: InterchangeErrorCode.GenesisMismatch, expected: toHex(expected), given: toHex(m.genesisValidatorsRoot) },
    `interchange genesis_validators_root ${toHex(m.genesisValidatorsRoot)} differs from ${toHex(expected)}`,
  );
}
