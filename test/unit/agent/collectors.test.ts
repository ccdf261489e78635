import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CometCollector } from "../../../src/agent/collectors/cometCollector.js";
import { EthCollector } from "../../../src/agent/collectors/ethCollector.js";
import { HarmonyCollector } from "../../../src/agent/collectors/harmonyCollector.js";
import { SubstrateCollector } from "../../../src/agent/collectors/substrateCollector.js";
import { parseReport } from "../../../src/fleet/reportFormat.js";
import {
  FakeCometNode,
  FakeHarmonyNode,
  FakeKeymanager,
  FakeSubstrateNode,
  HARMONY_NEEDS,
  HARMONY_VECTORS,
} from "../../utils/fakeNodes.js";
import type { LoopbackServer } from "../../utils/httpServer.js";
import { tempDir } from "../../utils/stores.js";
import { skipWithoutVectors } from "../../utils/vectors.js";

const T = 2000;
/** Wraps collected parts in a report so the monitor's own parser checks what the agent sends. */
const asReport = (...parts: Awaited<ReturnType<HarmonyCollector["collect"]>>[]) =>
  parseReport({
    version: 1,
    host: "h",
    agent_version: "t",
    interval_ms: 1000,
    observed_at: 1,
    sources: parts.map((p) => p.source),
    keys: parts.flatMap((p) => p.keys),
  });

describe("agent collectors against fake nodes", () => {
  const servers: LoopbackServer[] = [];
  const dirs: (() => void)[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.stop();
    for (const c of dirs.splice(0)) c();
  });
  const serve = async <S extends LoopbackServer>(s: S): Promise<[S, string]> => {
    servers.push(s);
    return [s, await s.start()];
  };
  const dir = () => {
    const t = tempDir();
    dirs.push(t.cleanup);
    return t.dir;
  };

  it("Harmony: Normal node signs with its loaded keys; the backup's keys are not active", async (ctx) => {
    skipWithoutVectors(ctx, HARMONY_NEEDS);
    const [, normalUrl] = await serve(new FakeHarmonyNode(HARMONY_VECTORS.normal));
    const [, backupUrl] = await serve(new FakeHarmonyNode(HARMONY_VECTORS.backup));
    const a = asReport(await new HarmonyCollector({ rpcUrl: normalUrl, timeoutMs: T }).collect());
    const b = asReport(await new HarmonyCollector({ rpcUrl: backupUrl, timeoutMs: T }).collect());
    expect(a.keys.map((k) => k.activity.active)).toEqual([true, true]);
    expect(b.keys.map((k) => k.activity.active)).toEqual([false, false]);
    expect(b.keys.map((k) => k.pubkey)).toEqual(a.keys.map((k) => k.pubkey));
    expect(a.sources[0]!.info).toMatchObject({ network: "mainnet", mode: "Normal", is_backup: false, shard_id: 0 });
  });

  it("Harmony key directory: public keys from file names only (a dangling .key link proves no file is opened)", async (ctx) => {
    skipWithoutVectors(ctx, HARMONY_NEEDS);
    const d = dir();
    const k = "5282193707c4192aa97d2db8a8846f1c19528a69a49c6a5a17a64a342e9ed8f23dcf9b01d74ac60932196d5f9365db4a";
    const extra = "ab".repeat(48);
    symlinkSync("/nonexistent/secret", join(d, `${k}.key`));
    symlinkSync("/nonexistent/secret", join(d, `${extra}.key`));
    writeFileSync(join(d, `${extra}.pass`), "passphrase-that-must-not-leave");
    writeFileSync(join(d, "notes.txt"), "x");
    const [, url] = await serve(new FakeHarmonyNode(HARMONY_VECTORS.normal));
    const collected = await new HarmonyCollector({ rpcUrl: url, keysDir: d, timeoutMs: T }).collect();
    expect(JSON.stringify(collected)).not.toContain("passphrase");
    const r = asReport(collected);
    const byKey = new Map(r.keys.map((x) => [x.pubkey, x]));
    expect(byKey.get(`0x${k}`)?.activity.active).toBe(true);
    expect(byKey.get(`0x${extra}`)?.facts).toMatchObject({ loaded: false });
    expect(r.keys).toHaveLength(3);
  });

  it("a node that is down is reported unreachable with the keys known from disk; nothing throws", async () => {
    const d = dir();
    writeFileSync(join(d, `${"cd".repeat(48)}.key`), "");
    const down = "http://127.0.0.1:9";
    for (const c of [
      new HarmonyCollector({ rpcUrl: down, keysDir: d, timeoutMs: T }),
      new CometCollector({ rpcUrl: down, timeoutMs: T }),
      new EthCollector({ url: down, tokenFile: join(d, "missing"), timeoutMs: T }),
      new SubstrateCollector({ rpcUrl: down, timeoutMs: T }),
    ]) {
      const got = await c.collect();
      expect(got.source.reachable).toBe(false);
      expect(got.source.error).toBeTruthy();
      expect(() => asReport(got)).not.toThrow();
    }
    expect((await new HarmonyCollector({ rpcUrl: down, keysDir: d, timeoutMs: T }).collect()).keys).toHaveLength(1);
  });

  it("CometBFT: /status plus home; a remote signer (priv_validator_laddr) means no local key", async () => {
    const [node, url] = await serve(new FakeCometNode());
    const home = dir();
    mkdirSync(join(home, "config"));
    writeFileSync(join(home, "config", "config.toml"), 'priv_validator_laddr = ""\n');
    writeFileSync(
      join(home, "config", "priv_validator_key.json"),
      JSON.stringify({
        address: "C0FFEE0000000000000000000000000000000001",
        pub_key: { type: "tendermint/PubKeyEd25519", value: Buffer.alloc(32, 7).toString("base64") },
        priv_key: { type: "tendermint/PrivKeyEd25519", value: Buffer.alloc(64, 5).toString("base64") },
      }),
    );
    const c = new CometCollector({ rpcUrl: url, home, timeoutMs: T });
    const got = await c.collect();
    expect(JSON.stringify(got)).not.toContain(Buffer.alloc(64, 5).toString("base64"));
    let r = asReport(got);
    expect(r.keys.map((k) => [k.pubkey, k.activity.active])).toEqual([[`0x${"07".repeat(32)}`, true]]);
    node.status.sync_info.catching_up = true;
    r = asReport(await c.collect());
    expect(r.keys[0]!.activity.active).toBe(false);
    node.status.sync_info.catching_up = false;
    writeFileSync(join(home, "config", "config.toml"), 'priv_validator_laddr = "tcp://0.0.0.0:1234"\n');
    r = asReport(await c.collect());
    expect(r.keys[0]!.activity.active).toBe(false);
  });

  it("Ethereum keymanager: local and remote keys with the API token", async () => {
    const [km, url] = await serve(new FakeKeymanager("api-token-1"));
    km.keystores = [{ validating_pubkey: `0x${"a1".repeat(48)}`, derivation_path: "", readonly: false }];
    km.remotekeys = [{ pubkey: `0x${"b2".repeat(48)}`, url: "https://signer.internal:9000", readonly: false }];
    const d = dir();
    writeFileSync(join(d, "token"), "api-token-1\n");
    const r = asReport(await new EthCollector({ url, tokenFile: join(d, "token"), timeoutMs: T }).collect());
    expect(r.keys.map((k) => [k.pubkey.slice(0, 4), k.activity.active, k.activity.signerId])).toEqual([
      ["0xa1", true, null],
      ["0xb2", true, "https://signer.internal:9000"],
    ]);
    writeFileSync(join(d, "token"), "wrong");
    expect(
      (await new EthCollector({ url, tokenFile: join(d, "token"), timeoutMs: T }).collect()).source.reachable,
    ).toBe(false);
  });

  it("Substrate: Authority holding the keystore's session keys signs", async () => {
    const [node, url] = await serve(new FakeSubstrateNode());
    const d = dir();
    const babe = `0x${"11".repeat(32)}`;
    const audi = `0x${"22".repeat(32)}`;
    writeFileSync(join(d, `62616265${babe.slice(2)}`), '"secret phrase"');
    writeFileSync(join(d, `61756469${audi.slice(2)}`), '"secret phrase"');
    node.held.add(`babe:${babe}`);
    node.held.add(`audi:${audi}`);
    node.sessionKeys = "0xfeed";
    const c = new SubstrateCollector({ rpcUrl: url, keystore: d, sessionKeys: "0xfeed", timeoutMs: T });
    const got = await c.collect();
    expect(JSON.stringify(got)).not.toContain("secret phrase");
    let r = asReport(got);
    const active = (rr: typeof r) =>
      Object.fromEntries(rr.keys.map((k) => [k.keyType, [k.activity.active, k.activity.certainty]]));
    expect(active(r)).toEqual({ babe: [true, 1], audi: [false, 0] });
    node.roles = ["Full"];
    r = asReport(await c.collect());
    expect(active(r)).toEqual({ babe: [false, 0], audi: [false, 0] });
  });
});
