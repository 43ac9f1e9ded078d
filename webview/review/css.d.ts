/** Lets TypeScript accept the stylesheet import in main.ts (esbuild bundles it to review.css). */
declare module '*.css';
