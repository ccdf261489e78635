/** Timings of the simulated validator hosts (ms of simulated time). */
export const TIMING = {
  blockMs: 1000,
  tickMs: 1000,
  ttlMs: 6000,
  marginMs: 3000,
  renewMs: 1000,
  stopTimeoutMs: 1000,
  commandTimeoutMs: 20_000,
  callMs: 20,
  callTimeoutMs: 1500,
  peerTimeoutMs: 500,
};
