import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The console is served by the parley binary at /console; `npm run dev` proxies the API
// to a running `parley serve` (PARLEY_URL, default http://127.0.0.1:8080).
const target = process.env.PARLEY_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  base: '/console/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    target: 'es2022',
    sourcemap: false,
    // One small chunk per page; React and the router in a shared vendor chunk.
    rollupOptions: {
      output: {
        manualChunks: (id) => (id.includes('node_modules') ? 'vendor' : undefined),
      },
    },
  },
  server: {
    proxy: {
      '/console/api': { target, changeOrigin: false },
      '/api': { target },
      '/sim': { target },
      '/files': { target },
    },
  },
});
