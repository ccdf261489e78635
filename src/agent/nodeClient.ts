import { HttpClient, limitsFor } from "../util/httpClient.js";

/** Largest node answer read (a keymanager list of 10,000 keys is about 1.5 MB; a misbehaving node cannot make the agent buffer more). */
const MAX_NODE_ANSWER = 4 << 20;

/** The HTTP client the collectors ask their local node with (one timeout per phase). */
export function nodeClient(timeoutMs: number): HttpClient {
  return new HttpClient(limitsFor(timeoutMs, MAX_NODE_ANSWER));
}
