import { type KeyWorkerRequest, type KeyWorkerResponse, keyWorkerHandler } from "./keyWorkerProtocol.js";

/** The dedicated worker's scope, typed by hand (the DOM and WebWorker libraries do not mix). */
interface WorkerScope {
  onmessage: ((e: MessageEvent<KeyWorkerRequest>) => void) | null;
  postMessage(m: KeyWorkerResponse, transfer: Transferable[]): void;
}

const scope = self as unknown as WorkerScope;
const handle = keyWorkerHandler((m, transfer) => scope.postMessage(m, transfer));
scope.onmessage = (e) => handle(e.data);
