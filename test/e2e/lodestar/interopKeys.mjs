// Prints the interop secret keys 0..N-1 (hex, one per line) of Lodestar's dev chains.
import { interopSecretKey } from "@lodestar/state-transition";

const n = Number(process.argv[2] ?? 8);
for (let i = 0; i < n; i++) process.stdout.write(`${Buffer.from(interopSecretKey(i).toBytes()).toString("hex")}\n`);
