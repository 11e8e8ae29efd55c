// Builds tests/vite into tests/vite/dist with paths relative to where the test server
// serves it (/tests/vite/dist/); models and photos come from /web/ at run time.
import { defineConfig } from 'vite';

export default defineConfig({
  root: new URL('.', import.meta.url).pathname,
  base: '/tests/vite/dist/',
  logLevel: 'warn',
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
});
