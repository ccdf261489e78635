import { readFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Command } from "commander";
import { ClusterTransport, DkgRun, nodeTlsFiles } from "../../cluster/index.js";
import {
  addClusterKeys,
  assertThresholdParams,
  type ClusterKey,
  DEFAULT_PBKDF2_C,
  DEFAULT_SCRYPT_N,
  readClusterFile,
  shareDir,
  ThresholdError,
  ThresholdErrorCode,
  writeClusterFile,
  writeShareKeystore,
} from "../../keys/index.js";
import { toHex } from "../../util/hex.js";
import { createLogger } from "../../util/logger.js";
import { kdfOptions, parseDuration, parseKdf, parsePositiveInt } from "../options.js";

interface DkgFlags {
  cluster: string;
  node: number;
  threshold: number;
  count: number;
  out: string;
  session: string;
  timeout: number;
  listen?: string;
  kdf: "scrypt" | "pbkdf2";
  kdfWork?: number;
}

/**
 * `cluster dkg`: every node runs it at the same time with its own copy of cluster.yaml. They generate
 * K group keys together over the cluster transport (Joint-Feldman), so the whole secret exists
 * nowhere; each node writes its share keystores to OUT/share-<i>/ and adds the group keys to its
 * cluster file. A node whose share fails verification aborts the run, naming the sender.
 */
export function registerClusterDkgCommand(cluster: Command): void {
  cluster
    .command("dkg")
    .description("generate group keys with the other nodes (distributed key generation: no whole key anywhere)")
    .requiredOption("--cluster <file>", "this node's copy of cluster.yaml (the group keys are added to it)")
    .requiredOption("--node <i>", "this node's index", parsePositiveInt)
    .requiredOption("--threshold <t>", "shares needed to sign (T > N/2)", parsePositiveInt)
    .requiredOption("--out <dir>", "writes this node's share keystores to DIR/share-<i>/")
    .option("--count <k>", "number of group keys", parsePositiveInt, 1)
    .option("--session <name>", "run name; every node must give the same", "dkg")
    .option(
      "--timeout <duration>",
      "whole run, waiting for the other nodes included (default 5m)",
      parseDuration,
      300_000,
    )
    .option("--listen <host:port>", "listen address (default: this node's address in the cluster file)")
    .option("--kdf <name>", "scrypt or pbkdf2", parseKdf, "scrypt")
    .option(
      "--kdf-work <n>",
      `scrypt n or pbkdf2 c (default ${DEFAULT_SCRYPT_N} / ${DEFAULT_PBKDF2_C}; lower only for tests)`,
      parsePositiveInt,
    )
    .action(async (o: DkgFlags) => {
      const c = readClusterFile(o.cluster);
      const n = c.nodes.length;
      assertThresholdParams(o.threshold, n);
      addClusterKeys(o.cluster, c, o.threshold, []); // refuses another T before the run
      const self = c.nodes.find((x) => x.index === o.node);
      if (self === undefined)
        throw new ThresholdError(
          { code: ThresholdErrorCode.ClusterFileInvalid, file: o.cluster, path: "nodes" },
          `--node ${o.node}: the cluster has nodes 1..${n}`,
        );
      const { logger } = createLogger({ level: "warn" });
      const tls = nodeTlsFiles(dirname(o.cluster), o.node);
      let run: DkgRun | null = null;
      const transport = await ClusterTransport.start(
        {
          self: o.node,
          nodes: c.nodes,
          tlsKey: readFileSync(tls.key),
          tlsCert: readFileSync(tls.cert),
          listen: o.listen ?? self.address,
          probeMs: 0,
        },
        {
          handlers: {
            partialSign: async () => {
              throw new ThresholdError(
                { code: ThresholdErrorCode.DkgFailed, reason: "busy" },
                "this node is running a DKG, not signing",
              );
            },
            keyCount: () => 0,
            dkg: async (from, msg) => {
              if (run === null)
                throw new ThresholdError(
                  { code: ThresholdErrorCode.DkgFailed, reason: "not ready" },
                  "DKG not started",
                );
              await run.receive(from, msg);
            },
          },
          logger,
          metrics: null,
        },
      );
      try {
        run = new DkgRun(
          {
            index: o.node,
            threshold: o.threshold,
            participants: n,
            keys: o.count,
            session: o.session,
            deadline: Date.now() + o.timeout,
          },
          transport,
          logger,
        );
        const results = await run.run();
        const kdf = kdfOptions(o);
        const keys: ClusterKey[] = [];
        for (const r of results) {
          const gpk = toHex(r.groupPublicKey);
          await writeShareKeystore(
            o.out,
            `keystore-${gpk.slice(2, 18)}`,
            { index: o.node, secret: r.secret, publicKey: r.sharePublicKeys[o.node - 1]! },
            r.groupPublicKey,
            n,
            o.threshold,
            kdf,
          );
          keys.push({
            groupPublicKey: r.groupPublicKey,
            groupPublicKeyHex: gpk,
            commitments: r.commitments,
            sharePublicKeys: r.sharePublicKeys,
          });
        }
        writeClusterFile(o.cluster, addClusterKeys(o.cluster, readClusterFile(o.cluster), o.threshold, keys));
        for (const k of keys) process.stdout.write(`${k.groupPublicKeyHex} ${o.threshold}-of-${n}\n`);
        process.stdout.write(
          `${keys.length} group key(s) added to ${o.cluster}; this node's shares are in ${shareDir(o.out, o.node)}\n`,
        );
      } finally {
        await transport.stop();
      }
    });
}
