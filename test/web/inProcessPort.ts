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
    postMessage(m: KeyWorkerRequest) {
      requests.push(structuredClone(m));
      setTimeout(() => handle(structuredClone(m)), 0);
    },
    terminate() {},
  };
  const handle = keyWorkerHandler((m: KeyWorkerResponse, transfer) => {
    for (const t of transfer) transferred.push(t as ArrayBuffer);
    setTimeout(() => port.onmessage?.({ data: m }), 0);
  });
  return port;
}
