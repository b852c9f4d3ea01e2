// After `vite build`: record which sources the bundle was built from.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, sourceFiles, sourceHash } from "./source-hash.mjs";

const out = join(ROOT, "..", "src", "model_router", "dashboard_dist", "build-info.json");
const info = { source_sha256: sourceHash(), files: sourceFiles().length };
writeFileSync(out, JSON.stringify(info, null, 2) + "\n");
console.log(`stamped ${out}: ${info.source_sha256}`);
