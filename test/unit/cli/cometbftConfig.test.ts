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

  it("takes a key in a PKCS#11 token instead of a key file", () => {
    const pkcs11 = { module: "/usr/lib/softhsm/libsofthsm2.so", token_label: "val", pin_file: "pin", key_label: "k" };
    const { key_file: _, ...noFile } = chain;
    const c = parseCometConfig({ chains: [{ ...noFile, key: { pkcs11 } }] }, "/etc/sg/cometbft.yaml");
    expect(c.chains[0]).toMatchObject({
      keyFile: null,
      pkcs11: {
        module: "/usr/lib/softhsm/libsofthsm2.so",
        tokenLabel: "val",
        pinFile: "/etc/sg/pin",
        key: { label: "k" },
      },
    });
    const byId = parseCometConfig(
      { chains: [{ ...noFile, key: { pkcs11: { ...pkcs11, key_label: undefined, key_id: "0a0b" } } }] },
      "c.yaml",
    );
    expect(byId.chains[0]!.pkcs11!.key).toEqual({ id: new Uint8Array([10, 11]) });
    const bad = (ch: unknown): unknown => {
      try {
        parseCometConfig({ chains: [ch] }, "c.yaml");
      } catch (e) {
        return (e as { code: string }).code;
      }
      return "accepted";
    };
    expect(bad({ ...chain, key: { pkcs11 } })).toBe("ERR_CONFIG_INVALID"); // both
    expect(bad(noFile)).toBe("ERR_CONFIG_INVALID"); // neither
    expect(bad({ ...noFile, key: { pkcs11: { ...pkcs11, key_id: "0a" } } })).toBe("ERR_CONFIG_INVALID"); // label and id
    expect(bad({ ...noFile, key: { pkcs11: { ...pkcs11, pin: "1234" } } })).toBe("ERR_CONFIG_INVALID"); // unknown field
    expect(bad({ ...noFile, key: { pkcs11: { ...pkcs11, token_label: "x".repeat(33) } } })).toBe("ERR_CONFIG_INVALID");
    expect(bad({ ...noFile, key: { file: "k.json" } })).toBe("ERR_CONFIG_INVALID");
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
