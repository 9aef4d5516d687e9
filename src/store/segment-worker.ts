// The segment worker thread (started by segment-preparer.ts): creates each requested segment under
// a temporary name, zero-filled with its blocks reserved, then links it into place. Every call here
// is synchronous, which is the point: they block this thread, never the broker's event loop.

import fs from "node:fs";
import { createSegmentFile } from "./mapped-file.ts";
import { PREPARING_SUFFIX, type PrepareReply, type PrepareRequest } from "./segment-preparer.ts";

declare const self: Worker;

function prepare(request: PrepareRequest): PrepareReply {
  const temporary = request.finalPath + PREPARING_SUFFIX;
  try {
    createSegmentFile(temporary, request.sizeBytes);
    // link, unlike rename, never replaces a segment the append path created meanwhile.
    fs.linkSync(temporary, request.finalPath);
    return { id: request.id, outcome: "created" };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return { id: request.id, outcome: "exists" };
    return { id: request.id, outcome: "failed", error: (err as Error).message, code };
  } finally {
    fs.rmSync(temporary, { force: true });
  }
}

self.onmessage = (event: MessageEvent<PrepareRequest>) => {
  self.postMessage(prepare(event.data));
};
