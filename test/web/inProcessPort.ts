import type { PortLike } from "../../web/src/keys/keyIndex.js";
import {
  type KeyWorkerRequest,
  type KeyWorkerResponse,
  keyWorkerHandler,
} from "../../web/src/keys/keyWorkerProtocol.js";

/**
 * The worker's own message handler behind a port that delivers messages asynchronously and in order,
 * as a Worker does, recording what was transferred.
 */
export function inProcessPort(): PortLike & { transferred: ArrayBuffer[]; requests: KeyWorkerRequest[] } {
  const transferred: ArrayBuffer[] = [];
  const requests: KeyWorkerRequest[] = [];
  const port: PortLike & { transferred: ArrayBuffer[]; requests: KeyWorkerRequest[] } = {
    transferred,
    requests,
    onmessage: null,
    postMessage(m: KeyWorkerRequest, transfer: Transferable[]) {
      // Moved, as postMessage moves them: the sender's arrays are detached afterwards.
      const delivered = structuredClone(m, { transfer: transfer as ArrayBuffer[] });
      requests.push(delivered);
      setTimeout(() => handle(delivered), 0);
    },
    terminate() {},
  };
  const handle = keyWorkerHandler((m: KeyWorkerResponse, transfer) => {
    for (const t of transfer) transferred.push(t as ArrayBuffer);
    setTimeout(() => port.onmessage?.({ data: m }), 0);
  });
  return port;
}
