import * as grpc from "@grpc/grpc-js";
import type { ClusterNode } from "../keys/index.js";
import type { ThresholdMetrics } from "../signer/index.js";
import {
  ClusterErrorCode,
  type PartialReply,
  type PartialRequest,
  PeerCallError,
  type PeerTransport,
} from "../signer/index.js";
import { AppError, errorMessage, isAppError } from "../util/errors.js";
import type { Logger } from "../util/logger.js";
import {
  CLUSTER_MAX_MESSAGE_BYTES,
  CODE_TRAILER,
  callerIndex,
  clusterServices,
  grpcStatusOf,
  peerChannelOptions,
  peerCredentials,
  serverCredentials,
} from "./clusterGrpc.js";
import type { DkgWireMessage } from "./dkgWire.js";
import { decodeDkgMessage, encodeDkgMessage } from "./dkgWire.js";

export interface ClusterTransportOptions {
  self: number;
  nodes: readonly ClusterNode[];
  tlsKey: Buffer;
  tlsCert: Buffer;
  /** Where this node listens (HOST:PORT); by default its own address in the cluster file. */
  listen: string;
  /** Reachability probe interval (0: no probes, calls alone update it). */
  probeMs: number;
}

/** What the transport serves; the threshold signer (and a running DKG) provide it. */
export interface ClusterHandlers {
  partialSign(from: number, req: PartialRequest): Promise<PartialReply>;
  keyCount(): number;
  dkg?: (from: number, msg: DkgWireMessage) => Promise<void>;
}

export interface ClusterTransportModules {
  handlers: ClusterHandlers;
  logger: Logger;
  metrics: ThresholdMetrics | null;
}

interface Peer {
  node: ClusterNode;
  signer: grpc.Client;
  dkg: grpc.Client;
  reachable: boolean;
}

type Unary = (req: unknown, md: grpc.Metadata, opts: grpc.CallOptions, cb: grpc.requestCallback<unknown>) => void;

/**
 * gRPC between cluster nodes over mutual TLS: the server accepts only the pinned certificates and
 * names the calling node by its certificate; each peer client trusts only that peer's certificate.
 */
export class ClusterTransport implements PeerTransport {
  private readonly peerMap = new Map<number, Peer>();
  private probe: NodeJS.Timeout | null = null;
  readonly peers: readonly number[];

  private constructor(
    private readonly opts: ClusterTransportOptions,
    private readonly m: ClusterTransportModules,
    private readonly server: grpc.Server,
    readonly port: number,
  ) {
    const s = clusterServices();
    for (const node of opts.nodes) {
      if (node.index === opts.self) continue;
      const creds = peerCredentials(node, opts.tlsKey, opts.tlsCert);
      const options = peerChannelOptions(node);
      this.peerMap.set(node.index, {
        node,
        signer: new s.ThresholdSigner(node.address, creds, options),
        dkg: new s.Dkg(node.address, creds, options),
        reachable: false,
      });
    }
    this.peers = [...this.peerMap.keys()].sort((a, b) => a - b);
  }

  static async start(opts: ClusterTransportOptions, m: ClusterTransportModules): Promise<ClusterTransport> {
    const s = clusterServices();
    const byFingerprint = new Map(opts.nodes.map((n) => [n.fingerprint, n.index]));
    const server = new grpc.Server({
      "grpc.max_receive_message_length": CLUSTER_MAX_MESSAGE_BYTES,
      "grpc.max_send_message_length": CLUSTER_MAX_MESSAGE_BYTES,
    });
    const serve =
      (method: string, fn: (from: number, req: unknown) => Promise<unknown>): grpc.handleUnaryCall<unknown, unknown> =>
      (call, callback) => {
        const from = callerIndex(call, byFingerprint);
        if (from === null || from === opts.self) {
          callback({
            code: grpc.status.PERMISSION_DENIED,
            details: `${ClusterErrorCode.NotAllowed}: not a cluster node`,
          });
          return;
        }
        fn(from, call.request).then(
          (reply) => callback(null, reply),
          (e: unknown) => {
            const trailer = new grpc.Metadata();
            const code = isAppError(e) ? e.code : "ERR_INTERNAL";
            trailer.set(CODE_TRAILER, code);
            if (method === "PartialSign") m.metrics?.served.inc({ peer: String(from), status: code });
            if (!isAppError(e)) m.logger.error("Cluster call failed", { method, peer: from }, e);
            callback({
              code: grpcStatusOf(e),
              details: isAppError(e) ? `${code}: ${oneLine(e.message)}` : "internal error",
              metadata: trailer,
            });
          },
        );
      };
    server.addService(s.ThresholdSigner.service, {
      PartialSign: serve("PartialSign", async (from, raw) => {
        const r = raw as { group_public_key: Buffer; request_json: string; signing_root: Buffer; signers: number[] };
        const reply = await m.handlers.partialSign(from, {
          groupPublicKey: new Uint8Array(r.group_public_key),
          body: r.request_json,
          signingRoot: new Uint8Array(r.signing_root),
          signers: r.signers.map(Number),
        });
        m.metrics?.served.inc({ peer: String(from), status: "ok" });
        return { index: reply.index, partial_signature: Buffer.from(reply.partial) };
      }),
      Ping: serve("Ping", async () => ({ index: opts.self, keys: m.handlers.keyCount() })),
    });
    server.addService(s.Dkg.service, {
      Deliver: serve("Deliver", async (from, raw) => {
        const h = m.handlers.dkg;
        if (h === undefined)
          throw new PeerCallError({ code: ClusterErrorCode.PeerRefused, peer: opts.self }, "no DKG running");
        await h(from, decodeDkgMessage(raw));
        return {};
      }),
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(opts.listen, serverCredentials(opts.nodes, opts.tlsKey, opts.tlsCert), (err, p) =>
        err === null
          ? resolve(p)
          : reject(new AppError({ code: "ERR_CLUSTER_BIND" }, `cannot listen on ${opts.listen}: ${err.message}`)),
      ),
    );
    const t = new ClusterTransport(opts, m, server, port);
    if (opts.probeMs > 0) {
      void t.probeAll();
      t.probe = setInterval(() => void t.probeAll(), opts.probeMs);
      t.probe.unref();
    }
    return t;
  }

  isReachable(peer: number): boolean {
    return this.peerMap.get(peer)?.reachable ?? false;
  }

  get reachableCount(): number {
    return [...this.peerMap.values()].filter((p) => p.reachable).length;
  }

  async requestPartial(peer: number, req: PartialRequest, timeoutMs: number): Promise<PartialReply> {
    const p = this.requirePeer(peer);
    const raw = (await this.call(
      p,
      p.signer,
      "PartialSign",
      {
        group_public_key: Buffer.from(req.groupPublicKey),
        request_json: req.body,
        signing_root: Buffer.from(req.signingRoot),
        signers: req.signers,
      },
      timeoutMs,
    )) as { index: number; partial_signature: Buffer };
    if (Number(raw.index) !== peer || raw.partial_signature?.length !== 96) {
      throw new PeerCallError({ code: ClusterErrorCode.BadPartial, peer }, `node ${peer} sent a malformed reply`);
    }
    return { index: peer, partial: new Uint8Array(raw.partial_signature) };
  }

  async sendDkg(peer: number, msg: DkgWireMessage, timeoutMs: number): Promise<void> {
    const p = this.requirePeer(peer);
    await this.call(p, p.dkg, "Deliver", encodeDkgMessage(msg), timeoutMs);
  }

  async stop(): Promise<void> {
    if (this.probe !== null) clearInterval(this.probe);
    for (const p of this.peerMap.values()) {
      p.signer.close();
      p.dkg.close();
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, 3000);
      this.server.tryShutdown(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  private requirePeer(peer: number): Peer {
    const p = this.peerMap.get(peer);
    if (p === undefined) throw new PeerCallError({ code: ClusterErrorCode.PeerUnavailable, peer }, `no node ${peer}`);
    return p;
  }

  private async probeAll(): Promise<void> {
    await Promise.all(
      [...this.peerMap.values()].map((p) =>
        this.call(p, p.signer, "Ping", {}, Math.max(200, Math.min(2000, this.opts.probeMs)), false).catch(
          () => undefined,
        ),
      ),
    );
    this.m.metrics?.peersReachable.set(this.reachableCount);
  }

  /**
   * One unary call. Requests wait for the connection within their deadline (a peer that just restarted
   * is reconnecting, not gone); probes do not, so an unreachable peer is noticed at once and sorted last.
   */
  private call(
    p: Peer,
    client: grpc.Client,
    method: string,
    req: unknown,
    timeoutMs: number,
    waitForReady = true,
  ): Promise<unknown> {
    const fn = (client as unknown as Record<string, Unary>)[method]!.bind(client);
    return new Promise((resolve, reject) => {
      fn(req, new grpc.Metadata({ waitForReady }), { deadline: Date.now() + timeoutMs }, (err, reply) => {
        if (err === null || err === undefined) {
          p.reachable = true;
          resolve(reply);
          return;
        }
        const peer = p.node.index;
        if (err.code === grpc.status.DEADLINE_EXCEEDED || err.code === grpc.status.UNAVAILABLE) {
          p.reachable = false;
          const code =
            err.code === grpc.status.UNAVAILABLE ? ClusterErrorCode.PeerUnavailable : ClusterErrorCode.PeerTimeout;
          reject(new PeerCallError({ code, peer }, `node ${peer}: ${oneLine(err.details ?? errorMessage(err))}`));
          return;
        }
        p.reachable = true;
        const peerCode = err.metadata?.get(CODE_TRAILER)[0];
        reject(
          new PeerCallError(
            typeof peerCode === "string"
              ? { code: ClusterErrorCode.PeerRefused, peer, peerCode }
              : { code: ClusterErrorCode.PeerRefused, peer },
            `node ${peer} refused: ${oneLine(err.details ?? "")}`,
          ),
        );
      });
    });
  }
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, " ").slice(0, 512);
}
