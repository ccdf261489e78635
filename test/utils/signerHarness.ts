import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { Registry } from "prom-client";
import { type EthereumHooks, ethereumSection } from "../../src/cli/signer/ethereumSection.js";
import { buildHttpApp } from "../../src/http/app.js";
import { httpStatusOf } from "../../src/http/statusCodes.js";
import { generateKeystores } from "../../src/keys/generate.js";
import type { SignerService } from "../../src/signer/service.js";
import { openStore } from "../../src/store/openStore.js";
import type { Store } from "../../src/store/types.js";
import { nullLogger } from "../../src/util/logger.js";
import { TEST_GVR_HEX } from "./ethRequests.js";
import { type Engine, freshStoreUrl, tempDir } from "./stores.js";

export interface SignerHarness {
  app: FastifyInstance;
  store: Store;
  service: SignerService;
  keys: string[];
  token: string;
  dir: string;
  storeUrl: string;
  close(): Promise<void>;
}

/** The real Ethereum signer section, composed as `slashguard signer` does, on a fresh store and keys. */
export async function startSignerHarness(
  engine: Engine,
  opts: { keys?: number; hooks?: EthereumHooks; flags?: Record<string, unknown> } = {},
): Promise<SignerHarness> {
  const t = tempDir("sg-signer-");
  const keystores = join(t.dir, "keys");
  await generateKeystores(keystores, opts.keys ?? 3, { kdf: "pbkdf2", work: 16 });
  const { url, cleanup } = await freshStoreUrl(engine);
  const store = await openStore(url);
  const registry = new Registry();
  const services: SignerService[] = [];
  const app = await buildHttpApp(
    {},
    {
      logger: nullLogger,
      registry,
      statusOf: httpStatusOf,
      health: async () => ({ ok: true, checks: {} }),
    },
  );
  const tokenFile = join(t.dir, "token");
  const service = await ethereumSection(opts.hooks).start({
    flags: {
      network: "custom",
      genesisValidatorsRoot: TEST_GVR_HEX,
      keystores,
      keymanagerTokenFile: tokenFile,
      blsThreads: 1,
      ...(opts.flags ?? { doppelganger: false }),
    },
    config: {},
    configFile: "",
    store,
    logger: nullLogger,
    registry,
    http: app,
    events: null,
  });
  if (service === null) throw new Error("ethereum section did not start");
  services.push(service);
  await app.ready();
  const keys = ((await app.inject({ url: "/api/v1/eth2/publicKeys" })).json() as string[]).sort();
  const { readFileSync } = await import("node:fs");
  return {
    app,
    store,
    service,
    keys,
    token: readFileSync(tokenFile, "utf8").trim(),
    dir: t.dir,
    storeUrl: url,
    close: async () => {
      await app.close();
      await service.stop();
      await store.close();
      await cleanup();
      t.cleanup();
    },
  };
}
