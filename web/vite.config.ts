import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

/** `npm run web:dev` proxies the API to a running `slashguard up` (or monitor) at this address. */
const API = process.env.SLASHGUARD_URL ?? "http://127.0.0.1:9000";

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "/",
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    // Everything is a file of its own: no data: URLs, so the Content-Security-Policy stays 'self' only.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
    chunkSizeWarningLimit: 400,
  },
  worker: { format: "es" },
  server: { proxy: { "/api": API, "/metrics": API } },
});
