// Reads fields out of an INFO reply ("field:value" lines under "# Section" headers). Pure functions.

/** Every `field:value` line of an INFO text; section headers and blank lines are skipped. */
export function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

/** An integer field; throws when missing or not an integer, so a renamed field cannot read as 0. */
export function infoInt(info: Map<string, string>, field: string): number {
  const raw = info.get(field);
  const value = raw === undefined ? NaN : Number(raw);
  if (!Number.isInteger(value)) throw new Error(`INFO field ${field} is ${raw === undefined ? 'missing' : `"${raw}"`}`);
  return value;
}

/** A string field; throws when missing. */
export function infoString(info: Map<string, string>, field: string): string {
  const raw = info.get(field);
  if (raw === undefined) throw new Error(`INFO field ${field} is missing`);
  return raw;
}
