import { describe, expect, it } from "vitest";
import { CometRpcError, CometRpcErrorCode } from "../../../../src/chains/cometbft/rpcErrors.js";
import {
  normalizeAddress,
  parseBlockLastCommit,
  parseCommit,
  parseNetInfo,
  parseStatus,
  signedBy,
} from "../../../../src/chains/cometbft/rpcParse.js";
import { BlockIdFlag } from "../../../../src/chains/cometbft/rpcTypes.js";

const ADDR = "D540AB022088612AC74B287D076DBFBC4A377A2E";

const status = {
  jsonrpc: "2.0",
  id: -1,
  result: {
    node_info: { network: "cosmoshub-4", moniker: "n" },
    sync_info: { latest_block_height: "9223372036854775807", catching_up: false },
    validator_info: { address: ADDR, pub_key: { type: "tendermint/PubKeyEd25519", value: "" }, voting_power: "10" },
  },
};

// Shape of a real /commit answer (docs.cosmos.network example), trimmed to the fields read.
const commit = (h: string, sigs: unknown[]) => ({
  jsonrpc: "2.0",
  id: -1,
  result: {
    signed_header: {
      header: { chain_id: "cosmoshub-2", height: h },
      commit: { height: h, round: 0, block_id: { hash: "AB", parts: { total: 1, hash: "CD" } }, signatures: sigs },
    },
    canonical: true,
  },
});
const present = (addr: string, flag = 2) => ({
  block_id_flag: flag,
  validator_address: addr,
  timestamp: "2019-04-22T17:01:58.376629719Z",
  signature: "14jaTQXYRt8kbLKEhdHq7AXycrFImiLuZx50uOjs2+Zv+2i7RTG/jnObD07Jo2ubZ8xd7bNBJMqkgtkd0oQHAw==",
});
const absent = { block_id_flag: 1, validator_address: "", timestamp: "0001-01-01T00:00:00Z", signature: null };

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof CometRpcError) return e.code;
    throw e;
  }
  return "ok";
}

describe("CometBFT RPC parsing", () => {
  it("reads /status with int64 heights as bigint (no precision lost)", () => {
    const s = parseStatus(status);
    expect(s.latestHeight).toBe(9223372036854775807n);
    expect(s.catchingUp).toBe(false);
    expect(s.validatorAddress).toBe(ADDR);
    expect(s.network).toBe("cosmoshub-4");
  });

  it("reads n_peers given as a string or a number", () => {
    expect(parseNetInfo({ result: { n_peers: "3" } }).nPeers).toBe(3);
    expect(parseNetInfo({ result: { n_peers: 7 } }).nPeers).toBe(7);
    expect(code(() => parseNetInfo({ result: { n_peers: "-1" } }))).toBe(CometRpcErrorCode.Invalid);
  });

  it("turns a JSON-RPC error object into ERR_COMETBFT_RPC_ERROR", () => {
    const body = {
      jsonrpc: "2.0",
      id: -1,
      error: { code: -32603, message: "Internal error", data: "height 9 too high" },
    };
    expect(code(() => parseCommit(body))).toBe(CometRpcErrorCode.NodeError);
  });

  it("finds the validator's precommit for the block and for nil, never an absent one", () => {
    const c = parseCommit(commit("12", [present(ADDR), absent]));
    expect(c.height).toBe(12n);
    expect(signedBy(c, ADDR)).toBe(true);
    expect(signedBy(parseCommit(commit("12", [present(ADDR, BlockIdFlag.Nil)])), ADDR)).toBe(true);
    expect(signedBy(parseCommit(commit("12", [absent, present("AA".repeat(20))])), ADDR)).toBe(false);
    // lower-case addresses on the wire compare equal
    expect(signedBy(parseCommit(commit("12", [present(ADDR.toLowerCase())])), ADDR)).toBe(true);
  });

  it("reads /block's last_commit as the previous height's commit", () => {
    const body = {
      result: {
        block: {
          header: { height: "13" },
          last_commit: { height: "12", round: 1, signatures: [present(ADDR)] },
        },
      },
    };
    const c = parseBlockLastCommit(body);
    expect(c.height).toBe(12n);
    expect(c.round).toBe(1);
    expect(signedBy(c, ADDR)).toBe(true);
    const wrong = structuredClone(body);
    wrong.result.block.last_commit.height = "11";
    expect(code(() => parseBlockLastCommit(wrong))).toBe(CometRpcErrorCode.Invalid);
  });

  it.each([
    [
      "height as a number",
      (b: ReturnType<typeof commit>) => Object.assign(b.result.signed_header.commit, { height: 12 }),
    ],
    [
      "height above int64",
      (b: ReturnType<typeof commit>) => {
        b.result.signed_header.header.height = "9223372036854775808";
        b.result.signed_header.commit.height = "9223372036854775808";
      },
    ],
    [
      "header and commit heights differ",
      (b: ReturnType<typeof commit>) => {
        b.result.signed_header.header.height = "13";
      },
    ],
    [
      "unknown block_id_flag",
      (b: ReturnType<typeof commit>) => {
        b.result.signed_header.commit.signatures = [present(ADDR, 4)];
      },
    ],
    [
      "present vote without signature",
      (b: ReturnType<typeof commit>) => {
        b.result.signed_header.commit.signatures = [{ ...present(ADDR), signature: null }];
      },
    ],
    [
      "short address",
      (b: ReturnType<typeof commit>) => {
        b.result.signed_header.commit.signatures = [present("ABCD")];
      },
    ],
    [
      "canonical missing",
      (b: ReturnType<typeof commit>) => {
        delete (b.result as { canonical?: boolean }).canonical;
      },
    ],
  ])("refuses a commit with %s", (_name, mutate) => {
    const b = commit("12", [present(ADDR)]);
    mutate(b);
    expect(code(() => parseCommit(b))).toBe(CometRpcErrorCode.Invalid);
  });

  it("normalizes addresses and refuses non-hex", () => {
    expect(normalizeAddress(ADDR.toLowerCase())).toBe(ADDR);
    expect(code(() => normalizeAddress("Z".repeat(40)))).toBe(CometRpcErrorCode.Invalid);
  });

  it("fuzz: mutated answers give a typed error or a valid parse, never anything else", () => {
    let seed = 0x2545f491;
    const rnd = (n: number): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const junk = [null, 0, -1, 1.5, "", "x", "-5", "99999999999999999999", [], {}, true, "AAAA", "0"];
    const bases = [() => commit("12", [present(ADDR), absent]), () => structuredClone(status)];
    for (let i = 0; i < 3000; i++) {
      const doc = bases[rnd(2)]!() as unknown as Record<string, unknown>;
      // walk to a random object inside and replace or delete one field
      let node: Record<string, unknown> = doc;
      for (let depth = rnd(5); depth > 0; depth--) {
        const kids = Object.values(node).filter((v) => typeof v === "object" && v !== null) as Record<
          string,
          unknown
        >[];
        if (kids.length === 0) break;
        node = kids[rnd(kids.length)]!;
      }
      const keys = Object.keys(node);
      if (keys.length > 0) {
        const k = keys[rnd(keys.length)]!;
        if (rnd(4) === 0) delete node[k];
        else node[k] = junk[rnd(junk.length)];
      }
      for (const parse of [parseCommit, parseStatus]) {
        try {
          parse(doc);
        } catch (e) {
          expect(e).toBeInstanceOf(CometRpcError);
        }
      }
    }
  });
});
