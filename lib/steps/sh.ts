/**
 * Bash built by construction: every `${value}` in an `sh` template is shell-quoted unless it is marked
 * {@link raw}. The template's own text is the library's code; only interpolations carry values.
 *
 *     sh`ec_dir ${dataDir} 0700 root:root`          // → ec_dir '/srv/reg;x' 0700 root:root
 *     sh`ec_log ${`installing into ${dataDir}`}`    // the whole message is one quoted word
 *     sh`${raw(fragment)}`                          // a fragment the library rendered itself
 *
 * An interpolation is refused where quoting cannot make it inert: inside a quoted string (`"…${v}…"`; a number is
 * allowed there), inside an unquoted here-document body, or (with a newline) inside a comment. A value that must be
 * part of a larger word is given whole (`${`${dir}/config.yaml`}`), so the result is always one quoted word.
 */

/** A fragment inserted verbatim: bash the library wrote itself, never a value from an environment file. */
export class RawShell {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/** Marks library-written bash to be inserted verbatim by {@link sh}. */
export function raw(text: string): RawShell {
  return new RawShell(text);
}

/** What `sh` accepts: strings (quoted), finite numbers, lists (each element quoted, joined by spaces), raw bash. */
export type ShellValue = string | number | RawShell | readonly (string | number)[];

/** Single-quotes a value for bash (bare when it is only safe characters). */
export function shellQuote(v: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`;
}

function quoteValue(v: ShellValue, at: number): string {
  if (v instanceof RawShell) return v.text;
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new Error(`sh: interpolation #${at} is the number ${v}`);
    return String(v);
  }
  if (typeof v === "string") return shellQuote(v);
  if (Array.isArray(v)) return v.map((e, i) => quoteValue(e as string | number, at * 1000 + i)).join(" ");
  throw new Error(`sh: interpolation #${at} is ${v === null ? "null" : typeof v}; give a string, number or raw()`);
}

type Ctx = "plain" | "sq" | "dq" | "comment" | "heredoc";

/**
 * Where the text leaves the lexer after `chunk`, starting from `state`. Tracks single and double quotes, `$( )`
 * nesting inside double quotes, backslash escapes, comments and unquoted here-documents — enough to know whether
 * the next interpolation sits where a quoted word is a word.
 */
interface LexState {
  stack: Ctx[];
  /** Pending here-document delimiters (body starts at the next newline). */
  pending: { delim: string; quoted: boolean }[];
  /** The active here-document. */
  heredoc?: { delim: string; quoted: boolean };
  /** Characters of the current line inside a here-document body. */
  line: string;
  /** Previous character (for `#` at word start). */
  prev: string;
}

function top(s: LexState): Ctx {
  return s.stack[s.stack.length - 1];
}

function lex(s: LexState, chunk: string): void {
  for (let i = 0; i < chunk.length; i++) {
    const c = chunk[i];
    const t = s.heredoc ? "heredoc" : top(s);
    if (t === "heredoc") {
      if (c === "\n") {
        if (s.line.replace(/^\t+/, "") === s.heredoc!.delim) s.heredoc = s.pending.shift();
        s.line = "";
      } else s.line += c;
      s.prev = c;
      continue;
    }
    if (t === "sq") {
      if (c === "'") s.stack.pop();
    } else if (t === "comment") {
      if (c === "\n") {
        s.stack.pop();
        if (s.pending.length > 0) s.heredoc = s.pending.shift();
      }
    } else if (t === "dq") {
      if (c === "\\") i++;
      else if (c === '"') s.stack.pop();
      else if (c === "$" && chunk[i + 1] === "(") {
        s.stack.push("plain");
        i++;
      }
    } else {
      // plain (top level or inside $( ))
      if (c === "\\") i++;
      else if (c === "'") s.stack.push("sq");
      else if (c === '"') s.stack.push("dq");
      else if (c === "#" && (s.prev === "" || /[\s;&|(]/.test(s.prev))) s.stack.push("comment");
      else if (c === "$" && chunk[i + 1] === "(") {
        s.stack.push("plain");
        i++;
      } else if (c === ")" && s.stack.length > 1) s.stack.pop();
      else if (c === "<" && chunk[i + 1] === "<" && chunk[i + 2] !== "<") {
        const m = /^<<-?[ \t]*(['"]?)([A-Za-z_][A-Za-z0-9_]*)\1/.exec(chunk.slice(i));
        if (m) {
          s.pending.push({ delim: m[2], quoted: m[1] !== "" });
          i += m[0].length - 1;
        }
      } else if (c === "\n" && s.pending.length > 0) {
        s.heredoc = s.pending.shift();
        s.line = "";
      }
    }
    s.prev = c;
  }
}

/** Bash with every interpolation quoted (see the module comment). */
export function sh(strings: TemplateStringsArray, ...values: ShellValue[]): string {
  const s: LexState = { stack: ["plain"], pending: [], line: "", prev: "" };
  let out = strings[0];
  lex(s, strings[0]);
  values.forEach((v, i) => {
    if (!(v instanceof RawShell)) {
      const where = s.heredoc ? (s.heredoc.quoted ? undefined : "an unquoted here-document") : top(s);
      const text = typeof v === "string" ? v : "";
      // a finite number's decimal form (digits . e + -) has no character special inside quotes: allowed there
      if ((where === "sq" || where === "dq") && typeof v !== "number")
        throw new Error(`sh: interpolation #${i} is inside a ${where === "sq" ? "single" : "double"}-quoted string`);
      if (where === "an unquoted here-document") throw new Error(`sh: interpolation #${i} is inside ${where}`);
      if ((where === "comment" || s.heredoc) && /[\n\r]/.test(text))
        throw new Error(`sh: interpolation #${i} carries a newline into a ${s.heredoc ? "here-document" : "comment"}`);
    }
    const q = quoteValue(v, i);
    out += q;
    // A raw fragment is lexed as part of the script; a quoted value is one complete word.
    if (v instanceof RawShell) lex(s, q);
    else s.prev = "x";
    out += strings[i + 1];
    lex(s, strings[i + 1]);
  });
  return out;
}
