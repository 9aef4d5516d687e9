// The one place a path inside the store is built from names (topics, queue ids): each name must be
// a single plain path segment, and the joined path is asserted to stay under the given root. Names
// are validated where they enter (common/topic.ts); this is the last line should one slip through.

import path from "node:path";

export class StorePathError extends Error {
  override name = "StorePathError";
}

/** A name usable as one directory entry: not empty, not `.`/`..`, no separator, no NUL. */
function isPlainSegment(name: string): boolean {
  return name.length > 0 && name !== "." && name !== ".." && !/[/\\\0]/.test(name);
}

/** `root/segments...`, throwing StorePathError when a segment is not plain or the result leaves `root`. */
export function storeSubPath(root: string, ...segments: string[]): string {
  for (const segment of segments) {
    if (!isPlainSegment(segment)) throw new StorePathError(`store path segment ${JSON.stringify(segment.slice(0, 200))} under ${root} is not a plain name`);
  }
  const base = path.resolve(root);
  const joined = path.resolve(base, ...segments);
  if (!joined.startsWith(base + path.sep)) throw new StorePathError(`store path ${joined} is not under ${base}`);
  return joined;
}
