/* global URL */
/**
 * `node --expose-gc --import ./bench/tsx-dist.mjs bench/x.bench.ts`: runs the bench files (TypeScript) with tsx, but
 * reads them with bench/tsconfig.json, which has no `paths`. So `import ... from 'rxjs-backpressure'` is not mapped to
 * src/ (as the root tsconfig.json maps it for the specs and the typechecker): Node resolves it as a package
 * self-reference through package.json `exports`, to the built dist/index.js, which runs as it ships (tsx compiles
 * only .ts files; dist/ is plain JavaScript). bench/shipped.ts checks both at run time.
 */
import { register } from 'tsx/esm/api';
import { fileURLToPath } from 'node:url';

register({ tsconfig: fileURLToPath(new URL('./tsconfig.json', import.meta.url)) });
