/** Lets TypeScript accept the stylesheet import in main.ts (esbuild bundles it to panel.css). */
declare module '*.css';
