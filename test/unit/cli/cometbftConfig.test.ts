import { describe, expect, it } from "vitest";
import { parseCometConfig, sameStoreUrl } from "../../../src/cli/signer/cometbftConfig.js";

const chain = { chain_id: "c-1", key_file: "keys/k.json", nodes: ["tcp://127.0.0.1:26659"] };

describe("CometBFT signer config", () => {
  it("resolves paths next to the file and fills defaults", () => {
    const c = parseCometConfig({ chains: [chain], timeouts: { handshake: "5s" } }, "/etc/sg/cometbft.yaml");
    expect(c.chains[0]).toMatchObject({
      chainId: "c-1",
      keyFile: "/etc/sg/keys/k.json",
      stateFile: null,
      pubKeyLayout: "both",
    });
    expect(c.timing.handshakeTimeoutMs).toBe(5000);
    expect(c.timing.maxRequestBytes).toBe(2 << 20);
  });

  const bad: [string, unknown][] = [
    ["no chains", { chains: [] }],
    ["unknown key", { chains: [chain], typo: 1 }],
    ["bad node address", { chains: [{ ...chain, nodes: ["http://x:1"] }] }],
    ["chain id too long", { chains: [{ ...chain, chain_id: "x".repeat(51) }] }],
    ["chain listed twice", { chains: [chain, chain] }],
    ["bad duration", { chains: [chain], timeouts: { idle: "soon" } }],
    ["bad layout", { chains: [{ ...chain, pubkey_response: "v2" }] }],
  ];
  for (const [name, doc] of bad) {
    it(`refuses: ${name}`, () => {
      expect(() => parseCometConfig(doc, "c.yaml")).toThrow(expect.objectContaining({ code: "ERR_CONFIG_INVALID" }));
    });
  }

  it("compares store URLs by what they open", () => {
    expect(sameStoreUrl("sqlite:./data/x.db", `sqlite:${process.cwd()}/data/x.db`)).toBe(true);
    expect(sameStoreUrl("postgres://u:secret@h/db", "postgres://u:***@h/db")).toBe(true);
    expect(sameStoreUrl("postgresql://u@h/db", "postgres://u@h/db")).toBe(true);
    expect(sameStoreUrl("postgres://u@h/db1", "postgres://u@h/db2")).toBe(false);
    expect(sameStoreUrl("sqlite:a.db", "sqlite:b.db")).toBe(false);
  });
});
