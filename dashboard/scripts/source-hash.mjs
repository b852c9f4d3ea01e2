// The dashboard's source fingerprint: SHA-256 over every file the bundle is
// built from (dashboard/src and the build configuration), in sorted path order.
// tests/integration/test_dashboard_serving.py computes the same hash in Python
// and fails when the committed bundle was built from other sources.
import { createHash } from "node:crypto";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const CONFIG_FILES = ["index.html", "package.json", "package-lock.json", "tsconfig.json", "vite.config.ts"];

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

export function sourceFiles(root = ROOT) {
  const files = [...CONFIG_FILES.map((f) => join(root, f)), ...walk(join(root, "src"))];
  return files.map((f) => relative(root, f).split(sep).join("/")).sort();
}

export function sourceHash(root = ROOT) {
  const hash = createHash("sha256");
  for (const path of sourceFiles(root)) {
    hash.update(path + "\0");
    hash.update(readFileSync(join(root, path)));
    hash.update("\0");
  }
  return hash.digest("hex");
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(sourceHash());
}
