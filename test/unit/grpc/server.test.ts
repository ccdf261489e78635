import { mkdirSync } from "node:fs";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RemoteKeystoreHandlers } from "../../../src/grpc/handlers.js";
import { GrpcServerErrorCode, type GrpcServerOptions, SubstrateGrpcServer } from "../../../src/grpc/server.js";
import { cryptoReady } from "../../../src/keys/substrate/keyPair.js";
import { SubstrateKeystore } from "../../../src/keys/substrate/keystore.js";
import { SubstrateProtection } from "../../../src/protection/substrate/substrateProtection.js";
import { nullLogger } from "../../../src/util/logger.js";
import { openTestStore, type TestStore, tempDir } from "../../utils/stores.js";
import {
  call,
  keystoreClient,
  PROPOSAL_PROTO,
  SUBSTRATE_SIGNER_NEEDS,
  writeVectorKeystore,
} from "../../utils/substrateSigner.js";
import { makeTestPki, type TestPki } from "../../utils/tlsCerts.js";
import { withVectors } from "../../utils/vectors.js";

let ts: TestStore;
let handlers: RemoteKeystoreHandlers;
let protection: SubstrateProtection;
let pki: TestPki;

const base = (o: Partial<GrpcServerOptions>): GrpcServerOptions => ({
  host: "127.0.0.1",
  port: 0,
  tls: null,
  allowClients: [],
  allowPlaintextRemote: false,
  maxMessageBytes: 1 << 20,
  ...o,
});

withVectors("SubstrateGrpcServer", SUBSTRATE_SIGNER_NEEDS, () => {
  const work = tempDir("sg-grpc-");
  beforeAll(async () => {
    await cryptoReady();
    const ks = join(work.dir, "ks");
    mkdirSync(ks);
    writeVectorKeystore(ks);
    ts = await openTestStore("sqlite");
    protection = new SubstrateProtection({}, { store: ts.store, logger: nullLogger });
    handlers = new RemoteKeystoreHandlers(
      { maxMessageBytes: 1 << 20, requirePayload: () => true },
      { keystore: SubstrateKeystore.open(ks), protection, logger: nullLogger },
    );
    pki = makeTestPki(work.dir);
  });

  afterAll(async () => {
    await protection.close();
    await ts.dispose();
    work.cleanup();
  });

  function tlsClient(address: string, client: { cert: Buffer; key: Buffer } | null) {
    const def = protoLoader.loadSync(PROPOSAL_PROTO, {
      keepCase: true,
      longs: String,
      enums: Number,
      defaults: true,
      oneofs: true,
    });
    const pkg = grpc.loadPackageDefinition(def) as unknown as {
      parity: { polkadot: { signer: { RemoteKeystore: new (a: string, c: grpc.ChannelCredentials) => grpc.Client } } };
    };
    const creds = grpc.credentials.createSsl(pki.ca, client?.key ?? null, client?.cert ?? null);
    return new pkg.parity.polkadot.signer.RemoteKeystore(address, creds) as Parameters<typeof call>[0];
  }

  describe("SubstrateGrpcServer", () => {
    it("refuses plaintext on a non-loopback address unless allowed", async () => {
      await expect(
        SubstrateGrpcServer.start(base({ host: "0.0.0.0" }), { handlers, logger: nullLogger, metrics: null }),
      ).rejects.toMatchObject({
        code: GrpcServerErrorCode.PlaintextRemote,
      });
    });

    it("mTLS: a client certificate in the allow-list is served, another one signed by the CA is denied, none fails the handshake", async () => {
      const server = await SubstrateGrpcServer.start(
        base({ tls: { cert: pki.server.cert, key: pki.server.key, clientCa: pki.ca }, allowClients: ["CN=node-a"] }),
        { handlers, logger: nullLogger, metrics: null },
      );
      const a = tlsClient(server.address, pki.client("node-a"));
      const b = tlsClient(server.address, pki.client("node-b"));
      const none = tlsClient(server.address, null);
      try {
        const ok = await call(a, "Ed25519PublicKeys", { key_type: "gran" });
        expect("reply" in ok && (ok.reply.public_keys as Buffer[]).length).toBe(1);
        const denied = await call(b, "Ed25519PublicKeys", { key_type: "gran" });
        expect("error" in denied && denied.error.code).toBe(grpc.status.PERMISSION_DENIED);
        const anonymous = await call(none, "Ed25519PublicKeys", { key_type: "gran" });
        expect("error" in anonymous && anonymous.error.code).toBe(grpc.status.UNAVAILABLE);
      } finally {
        for (const c of [a, b, none]) c.close();
        await server.stop();
      }
    });

    it("serves the standard health and reflection services", async () => {
      const server = await SubstrateGrpcServer.start(base({}), { handlers, logger: nullLogger, metrics: null });
      try {
        const healthDef = protoLoader.loadSync(
          join(import.meta.dirname, "../../../node_modules/grpc-health-check/proto/health/v1/health.proto"),
          { keepCase: true },
        );
        const health = grpc.loadPackageDefinition(healthDef) as unknown as {
          grpc: { health: { v1: { Health: new (a: string, c: grpc.ChannelCredentials) => grpc.Client } } };
        };
        const hc = new health.grpc.health.v1.Health(server.address, grpc.credentials.createInsecure()) as Parameters<
          typeof call
        >[0];
        const r = await call(hc, "Check", { service: "parity.polkadot.signer.RemoteKeystore" });
        expect("reply" in r && r.reply.status).toBe(1); // SERVING
        hc.close();

        const reflDef = protoLoader.loadSync(
          join(
            import.meta.dirname,
            "../../../node_modules/@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto",
          ),
          { keepCase: true },
        );
        const refl = grpc.loadPackageDefinition(reflDef) as unknown as {
          grpc: {
            reflection: { v1: { ServerReflection: new (a: string, c: grpc.ChannelCredentials) => grpc.Client } };
          };
        };
        const rc = new refl.grpc.reflection.v1.ServerReflection(
          server.address,
          grpc.credentials.createInsecure(),
        ) as grpc.Client & {
          ServerReflectionInfo(): grpc.ClientDuplexStream<
            object,
            { list_services_response?: { service: { name: string }[] } }
          >;
        };
        const names = await new Promise<string[]>((resolve, reject) => {
          const stream = rc.ServerReflectionInfo();
          stream.on("data", (m: { list_services_response?: { service: { name: string }[] } }) => {
            resolve((m.list_services_response?.service ?? []).map((x: { name: string }) => x.name));
            stream.end();
          });
          stream.on("error", reject);
          stream.write({ list_services: "*" });
        });
        rc.close();
        expect(names).toEqual(
          expect.arrayContaining(["parity.polkadot.signer.RemoteKeystore", "parity.polkadot.signer.RemoteKeystoreV2"]),
        );
        const c = keystoreClient(server.address);
        expect("reply" in (await call(c, "Sr25519PublicKeys", { key_type: "babe" }))).toBe(true);
        c.close();
      } finally {
        await server.stop();
      }
    });
  });
});
