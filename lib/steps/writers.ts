/**
 * Writers for the formats values land in besides bash: systemd unit settings, environment files, YAML and TOML
 * scalars. Each refuses (throws) or escapes what would end a line or a quoted string in that format, so a value can
 * never add a directive, a variable or a key.
 */

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f\u0085\u2028\u2029]/;

function refuseControl(v: string, what: string): void {
  if (CONTROL.test(v))
    throw new Error(`${what}: refuses a value with a newline or control character: ${JSON.stringify(v)}`);
}

/**
 * A value for a systemd unit setting (`Description=`, `OnCalendar=`, `WorkingDirectory=`…): one line, no control
 * characters, `%` written `%%` (specifiers, systemd.unit(5)), no trailing backslash (line continuation).
 */
export function unitValue(v: string): string {
  refuseControl(v, "unitValue");
  if (v.endsWith("\\"))
    throw new Error(`unitValue: refuses a trailing backslash (line continuation): ${JSON.stringify(v)}`);
  return v.replace(/%/g, "%%");
}

/**
 * One argument of `ExecStart=` and friends: double-quoted with `\` and `"` escaped, `$` written `$$` (no variable
 * expansion) and `%` written `%%` (systemd.service(5) "Command lines").
 */
export function unitExecArg(v: string): string {
  refuseControl(v, "unitExecArg");
  return `"${v.replace(/[\\"]/g, "\\$&").replace(/\$/g, "$$$$").replace(/%/g, "%%")}"`;
}

/**
 * `KEY="value"` lines of an environment file read by systemd's `EnvironmentFile=` and by bash's `source` alike:
 * the value double-quoted with `\ " $ \`` escaped (the characters both treat as special inside double quotes),
 * refusing newlines and control characters; keys must be shell identifiers.
 */
export function envFile(vars: Readonly<Record<string, string | number>>): string {
  return Object.entries(vars)
    .map(([k, v]) => envLine(k, String(v)))
    .join("");
}

export function envLine(key: string, value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new Error(`envFile: ${JSON.stringify(key)} is not a variable name`);
  refuseControl(value, `envFile ${key}`);
  return `${key}="${value.replace(/[\\"$`]/g, "\\$&")}"\n`;
}

/** A YAML double-quoted scalar (JSON string syntax, which YAML 1.2 reads; line separators escaped too). */
export function yamlString(v: string): string {
  return JSON.stringify(v)
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029")
    .replace(/\u0085/g, "\\u0085");
}

/** A TOML basic string: `"` and `\` escaped, every control character as `\uXXXX` (TOML v1.0.0 "String"). */
export function tomlString(v: string): string {
  // eslint-disable-next-line no-control-regex
  return `"${v.replace(/[\\"]/g, "\\$&").replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)}"`;
}

/**
 * A curl config file (`curl -K`) parameter: double-quoted with `\` and `"` escaped (curl manual, "-K, --config":
 * within double quotes the escape sequences are `\\`, `\"`, `\t`, `\n`, `\r` and `\v`), refusing newlines and control
 * characters.
 */
export function curlConfigString(v: string): string {
  refuseControl(v, "curlConfigString");
  return `"${v.replace(/[\\"]/g, "\\$&")}"`;
}
