import { fileURLToPath } from 'node:url';
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

// The sidebar runs inside WeCom's embedded Chromium webviews (desktop and mobile),
// some of which lag years behind; es2019 keeps optional chaining etc. transpiled.
export default defineConfig({
  root,
  base: '/sidebar/',
  plugins: [vue()],
  build: {
    outDir: fileURLToPath(new URL('../dist/sidebar', import.meta.url)),
    emptyOutDir: true,
    target: 'es2019',
    cssTarget: 'chrome61',
    sourcemap: false,
    // The real JS-SDK is a separate lazy chunk; the sandbox bundle never loads it.
    chunkSizeWarningLimit: 120,
  },
  server: {
    // `vite --config sidebar-app/vite.config.ts` during development: proxy API + sandbox to the server.
    proxy: {
      '/api': 'http://127.0.0.1:3000',
      '/sandbox': 'http://127.0.0.1:3000',
    },
  },
});
