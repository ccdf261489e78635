import blst from "@chainsafe/blst";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { attestationRequest, blockRequest, everyType, forkInfo, hex } from "../../../../utils/ethRequests.js";
import { type SignerHarness, startSignerHarness } from "../../../../utils/signerHarness.js";
import { ENGINES, markPostgresSkipped } from "../../../../utils/stores.js";

describe.each(ENGINES)("eth2 sign API on %s", (engine) => {
  let h: SignerHarness;
  beforeAll(async () => {
    h = await startSignerHarness(engine);
  });
  afterAll(async () => h?.close());

  const sign = (key: string, body: unknown, headers: Record<string, string> = { accept: "application/json" }) =>
    h.app.inject({ method: "POST", url: `/api/v1/eth2/sign/${key}`, payload: body as object, headers });

  async function recorded(): Promise<{ atts: number; blocks: number }> {
    return h.store.tx(async (tx) => {
      const [a] = await tx.all("SELECT count(*) AS n FROM eth_signed_attestations");
      const [b] = await tx.all("SELECT count(*) AS n FROM eth_signed_blocks");
      return { atts: Number(a!.n), blocks: Number(b!.n) };
    });
  }

  it("signs every type over the root computed independently, and the signature verifies", async () => {
    const key = h.keys[0]!;
    const pk = blst.PublicKey.fromBytes(Buffer.from(key.slice(2), "hex"));
    for (const r of everyType(120)) {
      const res = await sign(key, r.body);
      expect(res.statusCode, `${r.name}: ${res.body}`).toBe(200);
      const sig = blst.Signature.fromBytes(
        Buffer.from((res.json() as { signature: string }).signature.slice(2), "hex"),
      );
      expect(blst.verify(Buffer.from(r.root.slice(2), "hex"), pk, sig), r.name).toBe(true);
      // the client's own (correct) root is accepted too
      expect((await sign(key, { ...r.body, signingRoot: r.root })).statusCode, r.name).toBe(200);
    }
    expect(await recorded()).toEqual({ atts: 1, blocks: 2 });
  });

  it("negotiates the content type like Web3Signer", async () => {
    const key = h.keys[1]!;
    const r = everyType(130).find((x) => x.name === "RANDAO_REVEAL")!;
    const json = await sign(key, r.body, { accept: "application/json" });
    expect(json.headers["content-type"]).toMatch(/^application\/json/);
    const any = await sign(key, r.body, { accept: "*/*" });
    expect(any.headers["content-type"]).toMatch(/^application\/json/);
    const none = await sign(key, r.body, {});
    expect(none.headers["content-type"]).toMatch(/^text\/plain/);
    expect(none.body).toBe(json.json().signature);
    const text = await sign(key, r.body, { accept: "text/plain" });
    expect(text.body).toMatch(/^0x[0-9a-f]{192}$/);
  });

  it("refuses slashable requests with 412 and a code, keeps the first", async () => {
    const key = h.keys[2]!;
    expect((await sign(key, attestationRequest(200, 201, 1).body)).statusCode).toBe(200);
    const again = await sign(key, attestationRequest(200, 201, 2).body);
    expect(again.statusCode).toBe(412);
    expect(again.json().code).toBe("ERR_ATTESTATION_DOUBLE_VOTE");
    expect((await sign(key, attestationRequest(199, 202, 3).body)).json().code).toBe("ERR_ATTESTATION_SURROUNDING");
    expect((await sign(key, attestationRequest(200, 201, 1).body)).statusCode).toBe(200); // identical: re-signed
    expect((await sign(key, blockRequest(6500, 1).body)).statusCode).toBe(200);
    expect((await sign(key, blockRequest(6500, 2).body)).json().code).toBe("ERR_BLOCK_DOUBLE_PROPOSAL");
  });

  it("bad input: clear errors, nothing recorded", async () => {
    const key = h.keys[0]!;
    const before = await recorded();
    const att = attestationRequest(300, 301, 1).body as any;
    const cases: [string, () => Promise<{ statusCode: number; json(): any }>, number, string][] = [
      ["unknown key", () => sign(`0x${"ab".repeat(48)}`, att), 404, "ERR_KEY_UNKNOWN"],
      [
        "wrong genesis root",
        () => sign(key, { ...att, fork_info: forkInfo(hex(new Uint8Array(32).fill(9))) }),
        412,
        "ERR_GENESIS_MISMATCH",
      ],
      [
        "signing root differs",
        () => sign(key, { ...att, signingRoot: hex(new Uint8Array(32).fill(1)) }),
        400,
        "ERR_SIGNING_ROOT_MISMATCH",
      ],
      ["unknown type", () => sign(key, { ...att, type: "BLOCK_V3" }), 400, "ERR_BAD_REQUEST"],
      ["missing payload", () => sign(key, { type: "ATTESTATION", fork_info: forkInfo() }), 400, "ERR_BAD_REQUEST"],
      [
        "missing fork_info",
        () => sign(key, { type: "ATTESTATION", attestation: att.attestation }),
        400,
        "ERR_BAD_REQUEST",
      ],
      [
        "bad hex",
        () => sign(key, { ...att, attestation: { ...att.attestation, beacon_block_root: "0xzz" } }),
        400,
        "ERR_BAD_REQUEST",
      ],
      [
        "epoch not a number",
        () =>
          sign(key, {
            ...att,
            attestation: { ...att.attestation, target: { epoch: "x", root: att.attestation.target.root } },
          }),
        400,
        "ERR_BAD_REQUEST",
      ],
      [
        "unsafe JSON number",
        () => sign(key, { ...att, attestation: { ...att.attestation, slot: 2 ** 60 } }),
        400,
        "ERR_BAD_REQUEST",
      ],
      [
        "wrong fork version length",
        () =>
          sign(key, {
            ...att,
            fork_info: {
              ...(att.fork_info as object),
              fork: { previous_version: "0x01", current_version: "0x01", epoch: "1" },
            },
          }),
        400,
        "ERR_BAD_REQUEST",
      ],
      [
        "unknown block version",
        () =>
          sign(key, { type: "BLOCK_V2", fork_info: forkInfo(), beacon_block: { version: "PLUTO", block_header: {} } }),
        400,
        "ERR_BAD_REQUEST",
      ],
      [
        "malformed JSON",
        () =>
          h.app.inject({
            method: "POST",
            url: `/api/v1/eth2/sign/${key}`,
            payload: '{"type":',
            headers: { "content-type": "application/json" },
          }),
        400,
        "ERR_BAD_REQUEST",
      ],
      [
        "body is an array",
        () =>
          h.app.inject({
            method: "POST",
            url: `/api/v1/eth2/sign/${key}`,
            payload: "[1,2]",
            headers: { "content-type": "application/json" },
          }),
        400,
        "ERR_BAD_REQUEST",
      ],
      [
        "huge body",
        () =>
          h.app.inject({
            method: "POST",
            url: `/api/v1/eth2/sign/${key}`,
            payload: JSON.stringify({ ...att, pad: "x".repeat(3 << 20) }),
            headers: { "content-type": "application/json" },
          }),
        413,
        "ERR_BODY_TOO_LARGE",
      ],
    ];
    for (const [name, run, status, code] of cases) {
      const res = await run();
      expect(res.statusCode, name).toBe(status);
      expect(res.json().code, name).toBe(code);
    }
    expect(await recorded()).toEqual(before);
  });

  it("over real HTTP: 100 parallel conflicting attestations for one key, exactly one signature", async () => {
    const url = await h.app.listen({ port: 0, host: "127.0.0.1" });
    const key = h.keys[1]!;
    const res = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        fetch(`${url}/api/v1/eth2/sign/${key}`, {
          method: "POST",
          headers: { "content-type": "application/json", accept: "application/json" },
          body: JSON.stringify(attestationRequest(400, 401, i + 1).body),
        }).then(async (r) => ({ status: r.status, body: (await r.json()) as { code?: string } })),
      ),
    );
    expect(res.filter((r) => r.status === 200)).toHaveLength(1);
    expect(res.filter((r) => r.status === 412 && r.body.code === "ERR_ATTESTATION_DOUBLE_VOTE")).toHaveLength(99);
    const blocks = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        fetch(`${url}/api/v1/eth2/sign/${key}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(blockRequest(9000, i + 1).body),
        }).then((r) => r.status),
      ),
    );
    expect(blocks.filter((s) => s === 200)).toHaveLength(1);
  });

  it("publicKeys, upcheck and metrics", async () => {
    expect((await h.app.inject({ url: "/api/v1/eth2/publicKeys" })).json()).toHaveLength(3);
    expect((await h.app.inject({ url: "/upcheck" })).body).toBe("OK");
    const m = (await h.app.inject({ url: "/metrics" })).body;
    expect(m).toMatch(/slashguard_eth2_keys_loaded 3/);
    expect(m).toMatch(
      /slashguard_protection_refusals_total\{chain="ethereum",code="ERR_ATTESTATION_DOUBLE_VOTE"\} \d+/,
    );
    expect(m).toMatch(/slashguard_eth2_sign_requests_total\{type="ATTESTATION",status="200"\}/);
  });
});

markPostgresSkipped("eth2 sign API");
