/** systemd OnCalendar for a daily cron schedule `M H * * *`; undefined for anything else. */
export function cronToOnCalendar(cron: string): string | undefined {
  const m = /^(\d{1,2})\s+(\d{1,2})\s+\*\s+\*\s+\*$/.exec(cron.trim());
  if (!m || Number(m[1]) > 59 || Number(m[2]) > 23) return undefined;
  return `*-*-* ${m[2].padStart(2, "0")}:${m[1].padStart(2, "0")}:00`;
}
