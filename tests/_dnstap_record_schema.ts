// The JSON Schema of toDnstapRecord's records (docs/dnstap_record.schema.json)
// compiled once with Ajv (draft 2020-12, strict mode), for the record tests.
import { Ajv2020 } from "ajv/dist/2020.js";

const SCHEMA = JSON.parse(
  Deno.readTextFileSync(
    new URL("../docs/dnstap_record.schema.json", import.meta.url),
  ),
);

const ajv = new Ajv2020({
  strict: true,
  // required inside not / then names properties defined one level up.
  strictRequired: false,
  allErrors: true,
});
const validate = ajv.compile(SCHEMA);

/**
 * Why `value` does not match the schema, or `null` when it does.
 *
 * @param value A parsed JSON value (a record).
 * @returns Ajv's errors as text, or null.
 */
export function schemaErrors(value: unknown): string | null {
  if (validate(value)) return null;
  return ajv.errorsText(validate.errors, { separator: "; " });
}
