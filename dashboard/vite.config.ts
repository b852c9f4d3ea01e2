import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The bundle ships inside the Python package and is served at /dashboard.
// `npm run dev` proxies the API to a router on :8001.
export default defineConfig({
  base: "/dashboard/",
  plugins: [react()],
  build: {
    outDir: "../src/model_router/dashboard_dist",
    emptyOutDir: true,
    chunkSizeWarningLimit: 1200,
  },
  server: {
    proxy: { "/v1": "http://127.0.0.1:8001", "/health": "http://127.0.0.1:8001" },
  },
});
