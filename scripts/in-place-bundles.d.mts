export declare const BUNDLE_INPUTS: string;
/** Whether `<packageDir>/dist/index.js` exists and no input of it changed since its build (see the .mjs). */
export declare function isBundleFresh(packageDir: string, root: string): boolean;
/** Builds `names` in place (`scripts/build.ts`); undefined once built, else the build's output. */
export declare function buildBundles(names: readonly string[], root: string): Promise<string | undefined>;
