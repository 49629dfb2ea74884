// Times and dates in a reader's own time zone, as Slack shows them (its <!date^…> tokens).
// Pure functions of their arguments and the clock: no DOM, no page state.

export function localTime(tz, date = new Date()) {
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone: tz, hour: "numeric",
      minute: "2-digit" }).format(date);
  } catch { return ""; }
}

function parts(date, tz) {
  const fmt = new Intl.DateTimeFormat("en-US", {
    timeZone: tz, year: "numeric", month: "long", day: "numeric", weekday: "long",
    hour: "numeric", minute: "2-digit", second: "2-digit",
  });
  const out = {};
  for (const p of fmt.formatToParts(date)) out[p.type] = p.value;
  return out;
}

export function dayKey(date, tz) {
  return new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit",
    day: "2-digit" }).format(date);
}

function ordinal(day) {
  const n = Number(day);
  const s = n % 100 >= 11 && n % 100 <= 13 ? "th" : ({ 1: "st", 2: "nd", 3: "rd" }[n % 10] || "th");
  return `${n}${s}`;
}

export function prettyDay(date, tz) {
  const key = dayKey(date, tz);
  const now = Date.now();
  if (key === dayKey(new Date(now), tz)) return "Today";
  if (key === dayKey(new Date(now - 864e5), tz)) return "Yesterday";
  if (key === dayKey(new Date(now + 864e5), tz)) return "Tomorrow";
  return null;
}

export function formatDateToken(seconds, format, tz) {
  const date = new Date(Number(seconds) * 1000);
  const p = parts(date, tz);
  const short = p.month.slice(0, 3);
  const time = `${p.hour}:${p.minute} ${p.dayPeriod}`;
  const values = {
    date_num: dayKey(date, tz),
    date: `${p.month} ${ordinal(p.day)}, ${p.year}`,
    date_short: `${short} ${p.day}, ${p.year}`,
    date_long: `${p.weekday}, ${p.month} ${ordinal(p.day)}, ${p.year}`,
    time,
    time_secs: `${p.hour}:${p.minute}:${p.second} ${p.dayPeriod}`,
  };
  const pretty = prettyDay(date, tz);
  values.date_pretty = pretty || values.date;
  values.date_short_pretty = pretty || values.date_short;
  values.date_long_pretty = pretty || values.date_long;
  const ago = Math.round((Date.now() - date.getTime()) / 60000);
  values.ago = ago >= 0 ? `${ago} minutes ago` : `in ${-ago} minutes`;
  return format.replace(/\{(\w+)\}/g, (m, key) => values[key] ?? m);
}

export function stamp(ts, tz) {
  const date = new Date(Number(ts) * 1000);
  return localTime(tz, date);
}
