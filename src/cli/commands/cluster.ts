import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { createNodeCertificate, nodeTlsFiles } from "../../cluster/index.js";
import {
  type ClusterNode,
  certificateFingerprint,
  MAX_SHARES,
  ThresholdError,
  ThresholdErrorCode,
  writeClusterFile,
} from "../../keys/index.js";
import { writeFileDurable } from "../../util/durableFile.js";
import { registerClusterDkgCommand } from "./clusterDkg.js";

const ADDRESS_RE = /^(\[[0-9a-fA-F:]+\]|[^\s:[\]]+):([0-9]{1,5})$/;

function parseNodes(list: string): { host: string; address: string }[] {
  const items = list
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (items.length === 0 || items.length > MAX_SHARES)
    throw new ThresholdError(
      { code: ThresholdErrorCode.TooManyShares, shares: items.length, max: MAX_SHARES },
      `--nodes lists ${items.length} nodes: a cluster has 1..${MAX_SHARES}`,
    );
  const out = items.map((a) => {
    const m = ADDRESS_RE.exec(a);
    if (m === null || Number(m[2]) < 1 || Number(m[2]) > 65535)
      throw new ThresholdError({ code: ThresholdErrorCode.BadInput, field: "--nodes" }, `${a} is not HOST:PORT`);
    return { host: m[1]!, address: a };
  });
  if (new Set(out.map((n) => n.address)).size !== out.length)
    throw new ThresholdError({ code: ThresholdErrorCode.BadInput, field: "--nodes" }, "an address is listed twice");
  return out;
}

export function registerClusterCommands(program: Command): void {
  const cluster = program.command("cluster").description("threshold signing clusters (Ethereum BLS)");
  cluster
    .command("init")
    .description("write cluster.yaml and a TLS key and certificate for every node (each pinned in cluster.yaml)")
    .requiredOption("--nodes <list>", "HOST:PORT,HOST:PORT,…: each node's cluster (gRPC) address, node 1 first")
    .requiredOption("--out <dir>", "writes DIR/cluster.yaml and DIR/node-<i>/node.key, node.crt")
    .action(async (o: { nodes: string; out: string }) => {
      const nodes = parseNodes(o.nodes);
      const file = join(o.out, "cluster.yaml");
      if (existsSync(file))
        throw new ThresholdError(
          { code: ThresholdErrorCode.ClusterFileInvalid, file },
          `${file} exists: a cluster is initialised once (its keys depend on it)`,
        );
      mkdirSync(o.out, { recursive: true });
      const written: ClusterNode[] = [];
      for (const [i, n] of nodes.entries()) {
        const index = i + 1;
        const c = await createNodeCertificate(index, n.host);
        const tls = nodeTlsFiles(o.out, index);
        mkdirSync(tls.dir, { recursive: true, mode: 0o700 });
        writeFileDurable(tls.key, c.privateKeyPem, 0o600);
        writeFileDurable(tls.cert, c.certificatePem, 0o644);
        written.push({
          index,
          address: n.address,
          certificatePem: c.certificatePem,
          fingerprint: certificateFingerprint(c.certificatePem),
        });
      }
      writeClusterFile(file, { scheme: "bls12-381", threshold: null, nodes: written, keys: [] });
      for (const n of written) process.stdout.write(`node ${n.index} ${n.address} sha256:${n.fingerprint}\n`);
      process.stdout.write(
        `wrote ${file}; give node i its folder ${join(o.out, "node-<i>")} and a copy of cluster.yaml\n`,
      );
    });
  registerClusterDkgCommand(cluster);
}
