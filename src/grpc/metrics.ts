import { Counter, Histogram, type Registry } from "prom-client";

export interface GrpcMetrics {
  requests: Counter<"method" | "result">;
  seconds: Histogram<"method">;
}

export function createGrpcMetrics(registry: Registry): GrpcMetrics {
  return {
    requests: new Counter({
      name: "slashguard_substrate_grpc_requests_total",
      help: "RemoteKeystore gRPC calls by method and result (ok, or the error enum / gRPC status)",
      labelNames: ["method", "result"],
      registers: [registry],
    }),
    seconds: new Histogram({
      name: "slashguard_substrate_grpc_request_seconds",
      help: "RemoteKeystore gRPC call latency, from request decoded to reply sent",
      labelNames: ["method"],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
  };
}
