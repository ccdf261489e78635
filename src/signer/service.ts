/** A running part of `slashguard signer` (Ethereum HTTP API, CometBFT privval, Substrate gRPC). */
export interface SignerService {
  readonly name: string;
  /** Lines for the start-up banner: where it listens, how many keys. */
  describe(): string[];
  /** Reachability of what the service depends on, for /healthcheck. */
  health(): Promise<HealthReport>;
  /** Stops taking requests, waits for the ones in flight. */
  stop(): Promise<void>;
}

export interface HealthReport {
  ok: boolean;
  checks: Record<string, { ok: boolean; detail?: string }>;
}
