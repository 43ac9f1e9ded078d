/** Lets TypeScript accept the stylesheet import in main.ts (esbuild bundles it to loss.css). */
declare module '*.css';
