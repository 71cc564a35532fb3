/* global URL */
// `node --expose-gc --import tsx --import ./bench/register.mjs bench/x.bench.ts`: one bench file with src/ compiled
// like the published build (see bench/shipped-build.mjs).
import { register } from 'node:module';

register(new URL('./shipped-build.mjs', import.meta.url).href);
