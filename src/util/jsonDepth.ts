import { AppError } from "./errors.js";

/**
 * Deepest nesting of objects and arrays any JSON body of the API may have. Real bodies stay below 12
 * (a full Ethereum block); the bound keeps recursive code after parsing (JSON.stringify, validators)
 * from overflowing the stack on a hostile document (issue 15).
 */
export const MAX_JSON_DEPTH = 64;

class JsonDepthError extends AppError<{ code: "ERR_JSON_TOO_DEEP"; max: number }> {}

/**
 * Throws ERR_JSON_TOO_DEEP when `text` nests objects/arrays deeper than `max`. A linear scan that skips
 * strings; it does not validate the document (the parser that runs next does).
 */
export function checkJsonDepth(text: string, max = MAX_JSON_DEPTH): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max)
        throw new JsonDepthError({ code: "ERR_JSON_TOO_DEEP", max }, `JSON nests deeper than ${max} levels`);
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
}
