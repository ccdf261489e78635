import { execFileSync } from "node:child_process";
import { closeSync, constants, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { Registry } from "prom-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { HsmErrorCode } from "../../../src/keys/pkcs11/errors.js";
import { createHsmMetrics } from "../../../src/keys/pkcs11/metrics.js";
import type { Pkcs11KeyRef } from "../../../src/keys/pkcs11/pkcs11Config.js";
import { openPkcs11Keys, type Pkcs11KeySet } from "../../../src/keys/pkcs11/pkcs11KeySource.js";
import { withTokenSession } from "../../../src/keys/pkcs11/tokenAdmin.js";
import { ed25519Verify } from "../../../src/util/curve25519.js";
import { nullLogger } from "../../../src/util/logger.js";
import { HAS_SOFTHSM, markSoftHsmSkipped, type SoftHsm, softHsm, USER_PIN } from "../../utils/softhsm.js";
import { tempDir } from "../../utils/stores.js";

const TOKEN = "sg-source";
const msg = (s: string): Uint8Array => new TextEncoder().encode(s);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** Waits for a state the key source reaches by itself (bounded by the test timeout, never by a threshold). */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await sleep(10);
}
const codeOf = async (p: Promise<unknown>): Promise<string | undefined> =>
  p.then(
    () => undefined,
    (e: { code?: string }) => e.code,
  );

markSoftHsmSkipped("PKCS#11 key source");

describe.skipIf(!HAS_SOFTHSM)("PKCS#11 key source on SoftHSM2 (worker thread, fail closed, recovery)", () => {
  const work = tempDir("sg-hsm-source-");
  let hsm: SoftHsm;
  let set: Pkcs11KeySet | null = null;
  const events: string[] = [];
  const registry = new Registry();
  const ref = (label: string): Pkcs11KeyRef => ({
    module: hsm.module,
    tokenLabel: TOKEN,
    pinFile: hsm.pinFile,
    key: { label },
  });
  const open = (labels: string[], timing: { connectTimeoutMs?: number } = {}): Promise<Pkcs11KeySet> =>
    openPkcs11Keys(
      labels.map(ref),
      { retryMinMs: 10, retryMaxMs: 100, ...timing },
      {
        logger: nullLogger,
        metrics: createHsmMetrics(registry),
        listener: { down: (_m, e) => events.push(`down:${e.code}`), up: () => events.push("up") },
      },
    );
  const healthy = (): boolean => set !== null && Object.values(set.health()).every((c) => c.ok);
  const healthCode = (): string | undefined => Object.values(set!.health())[0]?.detail;

  beforeAll(() => {
    hsm = softHsm(work.dir);
    hsm.initToken(TOKEN);
    const t = { module: hsm.module, tokenLabel: TOKEN, pinFile: hsm.pinFile };
    withTokenSession(t, true, (s) => {
      s.generate("val-a");
      s.generate("val-b");
    });
  });
  afterEach(async () => {
    await set?.close();
    set = null;
    events.length = 0;
  });
  afterAll(() => work.cleanup());

  it("signs concurrently with two keys of one token; every signature verifies under the token's public key", async () => {
    set = await open(["val-a", "val-b"]);
    const [a, b] = set.keys;
    expect(Buffer.compare(a!.publicKey, b!.publicKey)).not.toBe(0);
    const jobs = Array.from({ length: 40 }, (_, i) => {
      const k = i % 2 === 0 ? a! : b!;
      const m = msg(`vote ${i}`);
      return k.sign(m).then((sig) => ed25519Verify(k.publicKey, m, sig));
    });
    expect(await Promise.all(jobs)).toEqual(new Array(40).fill(true));
    expect(healthy()).toBe(true);
    expect(await registry.getSingleMetricAsString("slashguard_hsm_up")).toMatch(
      /slashguard_hsm_up\{module="[^"]+"\} 1/,
    );
  });

  it("token pulled mid-run: signing fails closed at once, health goes red; back in: signing resumes", async () => {
    set = await open(["val-a"]);
    const k = set.keys[0]!;
    expect(ed25519Verify(k.publicKey, msg("before"), await k.sign(msg("before")))).toBe(true);
    hsm.pull();
    try {
      // the token's own failure, then refusals without asking the token while it is down
      expect(await codeOf(k.sign(msg("during")))).toMatch(/^ERR_HSM_/);
      expect(await codeOf(k.sign(msg("during")))).toBe(HsmErrorCode.Unavailable);
      expect(healthy()).toBe(false);
      expect(events.filter((e) => e.startsWith("down:ERR_HSM_"))).toHaveLength(1);
      expect(await registry.getSingleMetricAsString("slashguard_hsm_up")).toMatch(/\} 0/);
      // reconnect attempts fail while it is out (SoftHSM's C_Initialize fails without its token folder)
      await until(() => healthCode() === HsmErrorCode.Module);
      expect(await codeOf(k.sign(msg("still out")))).toBe(HsmErrorCode.Unavailable);
    } finally {
      hsm.plugBack();
    }
    await until(healthy);
    expect(events.at(-1)).toBe("up");
    const sig = await k.sign(msg("after"));
    expect(ed25519Verify(k.publicKey, msg("after"), sig)).toBe(true);
  });

  it("a wrong PIN keeps the key down (never retried with the same PIN); the right one brings it back", async () => {
    set = await open(["val-a"]);
    const k = set.keys[0]!;
    hsm.pull();
    writeFileSync(hsm.pinFile, "9999\n");
    try {
      expect(await codeOf(k.sign(msg("x")))).toMatch(/^ERR_HSM_/);
    } finally {
      hsm.plugBack();
    }
    await until(() => healthCode() === HsmErrorCode.Login);
    expect(await codeOf(k.sign(msg("x")))).toBe(HsmErrorCode.Unavailable);
    writeFileSync(hsm.pinFile, `${USER_PIN}\n`);
    await until(healthy);
    expect(ed25519Verify(k.publicKey, msg("y"), await k.sign(msg("y")))).toBe(true);
  });

  it("another key under the same label after a reconnect stays refused (ERR_HSM_KEY_CHANGED)", async () => {
    set = await open(["val-a"]);
    const k = set.keys[0]!;
    hsm.pull();
    try {
      // a different token with the same label and a key with the same label
      mkdirSync(hsm.tokenDir);
      hsm.initToken(TOKEN);
      withTokenSession({ module: hsm.module, tokenLabel: TOKEN, pinFile: hsm.pinFile }, true, (s) =>
        s.generate("val-a"),
      );
      expect(await codeOf(k.sign(msg("x")))).toMatch(/^ERR_HSM_/);
      await until(() => healthCode() === HsmErrorCode.KeyChanged);
      expect(await codeOf(k.sign(msg("x")))).toBe(HsmErrorCode.Unavailable);
    } finally {
      rmSync(hsm.tokenDir, { recursive: true, force: true });
      hsm.plugBack();
    }
    await until(healthy);
    expect(ed25519Verify(k.publicKey, msg("z"), await k.sign(msg("z")))).toBe(true);
  });

  it("a token that does not answer times out (ERR_HSM_TIMEOUT) and stays down until it answers again", async () => {
    set = await open(["val-a"], { connectTimeoutMs: 1000 });
    const k = set.keys[0]!;
    // A FIFO as the PIN file: reading it blocks the module's thread the way a hung token would.
    renameSync(hsm.pinFile, `${hsm.pinFile}.real`);
    execFileSync("mkfifo", [hsm.pinFile]);
    try {
      hsm.pull();
      try {
        expect(await codeOf(k.sign(msg("x")))).toMatch(/^ERR_HSM_/);
      } finally {
        hsm.plugBack();
      }
      await until(() => healthCode() === HsmErrorCode.Timeout);
      expect(await codeOf(k.sign(msg("x")))).toBe(HsmErrorCode.Unavailable);
    } finally {
      // let the stuck threads go (they read an empty PIN and end), then put the PIN back
      const fd = openSync(hsm.pinFile, constants.O_WRONLY | constants.O_NONBLOCK);
      closeSync(fd);
      rmSync(hsm.pinFile);
      renameSync(`${hsm.pinFile}.real`, hsm.pinFile);
    }
    await until(healthy);
    expect(ed25519Verify(k.publicKey, msg("t"), await k.sign(msg("t")))).toBe(true);
  });

  it("refuses to open a key that is missing or a token that is out; a closed source signs nothing", async () => {
    await expect(open(["nobody"])).rejects.toMatchObject({ code: HsmErrorCode.KeyNotFound });
    hsm.pull();
    try {
      await expect(open(["val-a"])).rejects.toMatchObject({ code: HsmErrorCode.Module });
    } finally {
      hsm.plugBack();
    }
    set = await open(["val-a"]);
    const k = set.keys[0]!;
    await set.close();
    expect(await codeOf(k.sign(msg("late")))).toBe(HsmErrorCode.Unavailable);
    // the module (shared per library) opens again afterwards
    set = await open(["val-b"]);
    expect(set.keys[0]!.publicKey).toHaveLength(32);
  });
});
