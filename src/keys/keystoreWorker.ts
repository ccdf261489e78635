/**
 * Keystore decryption worker: the KDF runs here, synchronously, so neither the event loop nor libuv's
 * thread pool (file I/O, the store's fsyncs) waits on it.
 */
import { serveWorker } from "../util/workerPool.js";
import { type DecryptReply, type DecryptRequest, decryptOne } from "./keystoreDecrypt.js";

serveWorker<DecryptRequest, DecryptReply>(decryptOne, (r) => (r.ok ? [r.secret.buffer as ArrayBuffer] : []));
