import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Libraries every page needs live in one chunk whose hash only changes when they are upgraded,
// so browsers keep it cached across app releases. Chart libraries are large and used only by a
// few pages, so they get a chunk of their own that loads with those pages.
const CHART_LIBS =
  /[\\/]node_modules[\\/](recharts|@mantine[\\/]charts|@reduxjs|react-redux|redux|immer|reselect|victory-vendor|d3-[^\\/]+|internmap|decimal\.js-light|es-toolkit|eventemitter3|tiny-invariant)[\\/]/;
// Feature-only libraries stay with the pages that use them.
const PAGE_LIBS =
  /[\\/]node_modules[\\/](@tabler|@mantine[\\/]dropzone|react-dropzone|file-selector|attr-accept|@tanstack[\\/](react-table|table-core|react-store|store)|socket\.io-client|socket\.io-parser|engine\.io-client|engine\.io-parser|@socket\.io|xmlhttprequest-ssl)[\\/]/;

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 2000,
    rolldownOptions: {
      output: {
        codeSplitting: {
          groups: [
            // Vendor goes first: a group also takes the dependencies of what it captures, so a
            // charts group claiming first would pull react and mantine into the charts chunk.
            {
              name: 'vendor',
              test: (id) => /[\\/]node_modules[\\/]/.test(id) && !CHART_LIBS.test(id) && !PAGE_LIBS.test(id),
              priority: 20,
            },
            // The charts stylesheet is imported by the app root; left in this group it would make
            // the entry import the whole charts chunk.
            { name: 'charts', test: (id) => CHART_LIBS.test(id) && !/\.css($|\?)/.test(id), priority: 10 },
          ],
        },
      },
    },
  },
  server: {
    port: 5173,
    proxy: {
      '/api': 'http://localhost:8000',
      '/socket.io': { target: 'http://localhost:8000', ws: true },
      '/docs': 'http://localhost:8000',
    },
  },
});
