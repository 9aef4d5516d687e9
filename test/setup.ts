// Preloaded by bunfig.toml before every test file.
import { setDefaultTimeout } from "bun:test";

/**
 * End-to-end and crash tests start real processes on a 2-core machine that may be busy;
 * bun's 5 s default cuts them off. (bunfig's [test] timeout key is not honoured by bun 1.4, and this
 * preload did not reach every file of a whole-suite run: the README and .ci/run also pass --timeout.)
 */
const TEST_TIMEOUT_MS = 60_000;
setDefaultTimeout(TEST_TIMEOUT_MS);
