import { z } from "zod";

// systemd v252 man/systemd.time.xml "Calendar Events": the shorthands, and
// "[DayOfWeek] Year-Month-Day Hour:Minute[:Second]" where each field is "*", a value, a list "a,b", a range
// "a..b" or a repetition "a/b". This is a strict subset (no time zones, no "~" last-day syntax, no fractions):
// every expression it accepts is one `systemd-analyze calendar` accepts too.

const SHORTHANDS = [
  "minutely",
  "hourly",
  "daily",
  "monthly",
  "weekly",
  "yearly",
  "annually",
  "quarterly",
  "semiannually",
];
const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/** One field: `*`, `*\/n`, or a list of `v`, `a..b`, `v/n`. */
function fieldOk(f: string, min: number, max: number, digits: number): boolean {
  if (f === "*") return true;
  const star = /^\*\/(\d{1,4})$/.exec(f);
  if (star) return Number(star[1]) >= 1;
  const num = new RegExp(`^\\d{1,${digits}}$`);
  const inRange = (s: string) => num.test(s) && Number(s) >= min && Number(s) <= max;
  return f.split(",").every((item) => {
    const rep = /^(.+)\/(\d{1,4})$/.exec(item);
    const body = rep ? rep[1] : item;
    if (rep && Number(rep[2]) < 1) return false;
    const range = /^(\d+)\.\.(\d+)$/.exec(body);
    if (range) return inRange(range[1]) && inRange(range[2]) && Number(range[1]) <= Number(range[2]);
    return inRange(body);
  });
}

function weekdaysOk(w: string): boolean {
  return w.split(",").every((item) => {
    const r = item.split("..");
    return r.length <= 2 && r.every((d) => WEEKDAYS.includes(d));
  });
}

/** Why `v` is not an accepted OnCalendar expression (undefined when it is). */
export function calendarProblem(v: string): string | undefined {
  const usage =
    'must be a systemd calendar expression such as "hourly", "daily", "*-*-* 03:30:00" or "Mon..Fri *-*-* 02:00"';
  if (SHORTHANDS.includes(v)) return undefined;
  if (!/^[A-Za-z0-9*.,:/ -]+$/.test(v)) return usage;
  const parts = v.split(" ");
  if (parts.some((p) => p === "")) return usage;
  let i = 0;
  if (/^[A-Za-z]/.test(parts[0])) {
    if (!weekdaysOk(parts[0])) return `${usage} (weekdays: ${WEEKDAYS.join(" ")})`;
    i = 1;
  }
  const rest = parts.slice(i);
  if (rest.length === 0 || rest.length > 2) return usage;
  let date: string | undefined;
  let time: string | undefined;
  if (rest.length === 2) [date, time] = rest;
  else if (rest[0].includes(":")) time = rest[0];
  else date = rest[0];
  if (date !== undefined) {
    const d = date.split("-");
    if (d.length === 2) d.unshift("*");
    if (d.length !== 3 || !fieldOk(d[0], 1970, 2199, 4) || !fieldOk(d[1], 1, 12, 2) || !fieldOk(d[2], 1, 31, 2))
      return `${usage} (date: year-month-day, e.g. *-*-01)`;
  }
  if (time !== undefined) {
    const t = time.split(":");
    if (t.length < 2 || t.length > 3 || !fieldOk(t[0], 0, 23, 2) || !fieldOk(t[1], 0, 59, 2))
      return `${usage} (time: hour:minute[:second])`;
    if (t.length === 3 && !fieldOk(t[2], 0, 59, 2)) return `${usage} (time: hour:minute[:second])`;
  }
  return undefined;
}

/** A systemd `OnCalendar=` expression (strict subset of systemd.time(7)). */
export const calendarExpression = z.string().superRefine((v, ctx) => {
  const p = calendarProblem(v);
  if (p) ctx.addIssue({ code: "custom", message: p });
});
