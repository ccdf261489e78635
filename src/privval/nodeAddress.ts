import { AppError } from "../util/errors.js";

export enum NodeAddressErrorCode {
  Invalid = "ERR_PRIVVAL_ADDRESS",
}

export class NodeAddressError extends AppError<{ code: NodeAddressErrorCode; address: string }> {}

/** Where a node's priv_validator_laddr listens: TCP (SecretConnection) or a Unix socket (plain). */
export type NodeAddress =
  | { kind: "tcp"; host: string; port: number; peerId: string | null; text: string }
  | { kind: "unix"; path: string; text: string };

const PEER_ID = /^[0-9a-f]{40}$/;

/**
 * Parses `tcp://[peer-id@]host:port` or `unix:///path`. The optional peer id pins the node's
 * SecretConnection identity; CometBFT draws a new one at every node start unless it persists it, so
 * pinning is opt-in.
 */
export function parseNodeAddress(text: string): NodeAddress {
  const bad = (why: string): NodeAddressError =>
    new NodeAddressError({ code: NodeAddressErrorCode.Invalid, address: text }, `node address ${text}: ${why}`);
  if (text.startsWith("unix://")) {
    const path = text.slice("unix://".length);
    if (!path.startsWith("/")) throw bad("a unix socket path must be absolute (unix:///path)");
    return { kind: "unix", path, text };
  }
  if (!text.startsWith("tcp://")) throw bad("use tcp://host:port or unix:///path");
  let rest = text.slice("tcp://".length);
  let peerId: string | null = null;
  const at = rest.indexOf("@");
  if (at >= 0) {
    peerId = rest.slice(0, at).toLowerCase();
    if (!PEER_ID.test(peerId)) throw bad("the peer id must be 40 hex characters");
    rest = rest.slice(at + 1);
  }
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:/[\]]+):([0-9]{1,5})$/.exec(rest);
  if (!m) throw bad("expected host:port");
  const port = Number(m[2]);
  if (port < 1 || port > 65535) throw bad("port out of range");
  return { kind: "tcp", host: m[1]!.replace(/^\[|\]$/g, ""), port, peerId, text };
}
