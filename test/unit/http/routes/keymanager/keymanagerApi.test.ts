import { readdirSync } from "node:fs";
import { join } from "node:path";
import blst from "@chainsafe/blst";
import { afterEach, describe, expect, it } from "vitest";
import { encryptKeystore } from "../../../../../src/keys/eip2335.js";
import { attestationRequest, blockRequest, TEST_GVR_HEX } from "../../../../utils/ethRequests.js";
import { type SignerHarness, startSignerHarness } from "../../../../utils/signerHarness.js";
import { ENGINES, markPostgresSkipped } from "../../../../utils/stores.js";

async function newKeystore(n: number, password: string): Promise<{ json: string; pubkey: string }> {
  const sk = blst.SecretKey.fromKeygen(new Uint8Array(32).fill(n));
  const pk = sk.toPublicKey().toBytes();
  const ks = await encryptKeystore(sk.toBytes(), pk, password, { kdf: "pbkdf2", work: 16 });
  return { json: JSON.stringify(ks), pubkey: `0x${Buffer.from(pk).toString("hex")}` };
}

describe.each(ENGINES)("keymanager API on %s", (engine) => {
  let h: SignerHarness;
  afterEach(async () => h?.close());
  const auth = () => ({ authorization: `Bearer ${h.token}` });
  const sign = (key: string, body: unknown) =>
    h.app.inject({
      method: "POST",
      url: `/api/v1/eth2/sign/${key}`,
      payload: body as object,
      headers: { accept: "application/json" },
    });

  it("needs the bearer token", async () => {
    h = await startSignerHarness(engine);
    for (const headers of [{}, { authorization: "Bearer wrong" }, { authorization: h.token }]) {
      const r = await h.app.inject({ url: "/eth/v1/keystores", headers });
      expect(r.statusCode).toBe(401);
      expect(r.json().code).toBe("ERR_UNAUTHORIZED");
    }
    const del = await h.app.inject({ method: "DELETE", url: "/eth/v1/keystores", payload: { pubkeys: h.keys } });
    expect(del.statusCode).toBe(401);
    expect((await h.app.inject({ url: "/api/v1/eth2/publicKeys" })).json()).toHaveLength(3);
  });

  it("lists, imports (imported / duplicate / error) with slashing protection, and signs with the new key", async () => {
    h = await startSignerHarness(engine);
    const list = await h.app.inject({ url: "/eth/v1/keystores", headers: auth() });
    expect(
      list
        .json()
        .data.map((d: { validating_pubkey: string }) => d.validating_pubkey)
        .sort(),
    ).toEqual(h.keys);
    const a = await newKeystore(11, "pa");
    const b = await newKeystore(12, "pb");
    const interchange = JSON.stringify({
      metadata: { interchange_format_version: "5", genesis_validators_root: TEST_GVR_HEX },
      data: [
        { pubkey: a.pubkey, signed_blocks: [], signed_attestations: [{ source_epoch: "50", target_epoch: "51" }] },
      ],
    });
    const res = await h.app.inject({
      method: "POST",
      url: "/eth/v1/keystores",
      headers: auth(),
      payload: {
        keystores: [a.json, b.json, a.json, "{oops"],
        passwords: ["pa", "wrong", "pa", "x"],
        slashing_protection: interchange,
      },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().data.map((d: { status: string }) => d.status)).toEqual([
      "imported",
      "error",
      "duplicate",
      "error",
    ]);
    // the imported history protects the new key at once
    expect((await sign(a.pubkey, attestationRequest(50, 51, 3).body)).json().code).toBe("ERR_ATTESTATION_DOUBLE_VOTE");
    expect((await sign(a.pubkey, attestationRequest(51, 52, 3).body)).statusCode).toBe(200);
    expect((await h.app.inject({ url: "/api/v1/eth2/publicKeys" })).json()).toContain(a.pubkey);
    expect(readdirSync(join(h.dir, "keys")).filter((f) => f.endsWith(".json"))).toHaveLength(4);
  });

  it("a bad slashing_protection document fails the request and imports no key", async () => {
    h = await startSignerHarness(engine);
    const a = await newKeystore(13, "pa");
    const res = await h.app.inject({
      method: "POST",
      url: "/eth/v1/keystores",
      headers: auth(),
      payload: { keystores: [a.json], passwords: ["pa"], slashing_protection: '{"metadata": {' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe("ERR_INTERCHANGE_TRUNCATED");
    expect((await h.app.inject({ url: "/api/v1/eth2/publicKeys" })).json()).not.toContain(a.pubkey);
  });

  it("delete: the key stops signing first, then its history is exported; statuses per key", async () => {
    h = await startSignerHarness(engine);
    const key = h.keys[0]!;
    expect((await sign(key, attestationRequest(10, 11, 1).body)).statusCode).toBe(200);
    expect((await sign(key, blockRequest(400, 1).body)).statusCode).toBe(200);
    const res = await h.app.inject({
      method: "DELETE",
      url: "/eth/v1/keystores",
      headers: auth(),
      payload: { pubkeys: [key, `0x${"ab".repeat(48)}`, "junk"] },
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.data.map((d: { status: string }) => d.status)).toEqual(["deleted", "not_found", "error"]);
    const doc = JSON.parse(body.slashing_protection);
    expect(doc.metadata.genesis_validators_root).toBe(TEST_GVR_HEX);
    expect(doc.data).toHaveLength(1);
    expect(doc.data[0].signed_attestations).toEqual([
      { source_epoch: "10", target_epoch: "11", signing_root: expect.any(String) },
    ]);
    expect((await sign(key, attestationRequest(11, 12, 1).body)).statusCode).toBe(404);
    expect(readdirSync(join(h.dir, "keys")).filter((f) => f.endsWith(".json"))).toHaveLength(2);
    // deleting again: not active, data still exported
    const again = (
      await h.app.inject({ method: "DELETE", url: "/eth/v1/keystores", headers: auth(), payload: { pubkeys: [key] } })
    ).json();
    expect(again.data[0].status).toBe("not_active");
    expect(JSON.parse(again.slashing_protection).data).toHaveLength(1);
    // the database refuses the key even for another instance that still had it loaded
    const disabled = await h.store.tx((tx) =>
      tx.all("SELECT enabled FROM eth_validators WHERE pubkey = $1", [Buffer.from(key.slice(2), "hex")]),
    );
    expect(Boolean(disabled[0]!.enabled)).toBe(false);
  });
});

markPostgresSkipped("keymanager API");
