import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { loadVector, REPO_ROOT, SPECS_DIR } from "./vectors.js";

/** The proposal's own file: a client built from it must work unchanged. */
export const PROPOSAL_PROTO = join(SPECS_DIR, "substrate-remote-keystore.proto");
/** What a test using the vector keystore and the proposal's proto needs; see withVectors. */
export const SUBSTRATE_SIGNER_NEEDS = { vectors: ["substrate/keys.json"], specs: ["substrate-remote-keystore.proto"] };
/** slashguard's copy (adds block_proposal and grandpa_message to the payload, and RemoteKeystoreV2). */
export const OUR_PROTO = join(REPO_ROOT, "src/grpc/substrate-remote-keystore.proto");

type Unary = (req: object, cb: (err: grpc.ServiceError | null, res: Record<string, unknown>) => void) => void;
export type KeystoreClient = grpc.Client & Record<string, Unary>;

export function keystoreClient(address: string, proto = PROPOSAL_PROTO, service = "RemoteKeystore"): KeystoreClient {
  const def = protoLoader.loadSync(proto, {
    keepCase: true,
    longs: String,
    enums: Number,
    defaults: true,
    oneofs: true,
  });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    parity: { polkadot: { signer: Record<string, new (a: string, c: grpc.ChannelCredentials) => KeystoreClient> } };
  };
  return new pkg.parity.polkadot.signer[service]!(address, grpc.credentials.createInsecure());
}

/** Calls a unary method; resolves with the reply (and its trailers' slashguard-code), or the gRPC error. */
export function call(
  c: KeystoreClient,
  method: string,
  req: object,
): Promise<{ reply: Record<string, unknown>; code: string | null } | { error: grpc.ServiceError }> {
  return new Promise((resolve) => {
    let code: string | null = null;
    const handle = (c as unknown as Record<string, (...a: unknown[]) => grpc.ClientUnaryCall>)[method]!.call(
      c,
      req,
      (err: grpc.ServiceError | null, res: Record<string, unknown>) =>
        setImmediate(() => resolve(err === null ? { reply: res, code } : { error: err })),
    );
    handle.on("status", (s: grpc.StatusObject) => {
      const v = s.metadata.get("slashguard-code")[0];
      code = v === undefined ? null : String(v);
    });
  });
}

interface KeysVector {
  keystore_files: { key_type: string; file_name: string; file_content: string }[];
}

/** Writes the vector keystore files (babe, gran, para, beef of //Alice and a seed) into dir. */
export function writeVectorKeystore(dir: string): void {
  for (const f of loadVector<KeysVector>("substrate/keys.json").keystore_files) {
    writeFileSync(join(dir, f.file_name), f.file_content, { mode: 0o600 });
  }
}

export interface SignerProcess {
  proc: ChildProcess;
  grpcAddress: string;
  httpAddress: string;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/** Starts `node dist/cli/main.js signer` on free ports and waits for its banner. */
export async function startSignerProcess(opts: {
  dbUrl: string;
  keystore: string;
  workDir: string;
  extraConfig?: string;
}): Promise<SignerProcess> {
  const config = join(opts.workDir, `signer-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(config, `http:\n  port: 0\nsubstrate:\n  grpc:\n    port: 0\n${opts.extraConfig ?? ""}`);
  const proc = spawn(
    process.execPath,
    [
      join(REPO_ROOT, "dist/cli/main.js"),
      "signer",
      "--config",
      config,
      "--db",
      opts.dbUrl,
      "--substrate-keystore",
      opts.keystore,
      "--log-level",
      "warn",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
  let out = "";
  let err = "";
  proc.stderr!.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const addresses = await new Promise<{ grpc: string; http: string }>((resolve, reject) => {
    proc.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const g = /gRPC RemoteKeystore listening on (\S+)/.exec(out);
      const h = /signer listening on (\S+)/.exec(out);
      if (g && h) resolve({ grpc: g[1]!, http: h[1]! });
    });
    void exited.then((code) => reject(new Error(`signer exited with ${code} before listening: ${err}`)));
  });
  return {
    proc,
    grpcAddress: addresses.grpc,
    httpAddress: addresses.http,
    exited,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill("SIGTERM");
        await exited;
      }
    },
  };
}
