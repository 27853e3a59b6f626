// Generates generated/schema.d.ts from the checked-in OpenAPI document with openapi-typescript.
//
//   node generate.mjs [path/to/openapi.json]      (default: ../../openapi/openapi.json)
//
// This is `npx openapi-typescript ../../openapi/openapi.json -o generated/schema.d.ts` plus
// one documented option the CLI does not have: binary bodies (`type: string, format: binary`,
// e.g. the raw upload of POST /v1/documents) become `Blob` instead of `string`, so a file can be
// passed as the body without a cast. It exits non-zero when openapi-typescript reports an
// error (for example a `$ref` that does not resolve) or a warning (printed as they come).
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import openapiTS, { astToString } from "openapi-typescript";
import ts from "typescript";

const here = path.dirname(fileURLToPath(import.meta.url));
const input = path.resolve(process.argv[2] ?? path.join(here, "../../openapi/openapi.json"));
const output = path.join(here, "generated/schema.d.ts");

// openapi-typescript reports its warnings through console.warn; count them.
let warnings = 0;
const consoleWarn = console.warn.bind(console);
console.warn = (...args) => {
  warnings += 1;
  consoleWarn(...args);
};

const BLOB = ts.factory.createTypeReferenceNode(ts.factory.createIdentifier("Blob"));
const NULL = ts.factory.createLiteralTypeNode(ts.factory.createNull());

try {
  const ast = await openapiTS(pathToFileURL(input), {
    transform(schema) {
      if (schema.format === "binary") {
        const nullable = Array.isArray(schema.type) ? schema.type.includes("null") : schema.nullable;
        return nullable ? ts.factory.createUnionTypeNode([BLOB, NULL]) : BLOB;
      }
      return undefined;
    },
  });
  fs.mkdirSync(path.dirname(output), { recursive: true });
  fs.writeFileSync(output, astToString(ast));
  console.log(`openapi-typescript: ${path.relative(process.cwd(), input)} -> ${path.relative(process.cwd(), output)}`);
  if (warnings > 0) {
    console.error(`openapi-typescript: ${warnings} warning(s); the spec must generate without any`);
    process.exit(1);
  }
} catch (err) {
  console.error(`openapi-typescript failed: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
}
