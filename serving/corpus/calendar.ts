// Dates that are true: weekdays computed from the Gregorian calendar, month lengths with leap years.
import type { Random } from './random.ts';

export const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September',
  'October', 'November', 'December'] as const;
export const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const;
export type Season = 'spring' | 'summer' | 'autumn' | 'winter';

export const isLeapYear = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

/** Days in month m (1–12) of year y. */
export function daysInMonth(y: number, m: number): number {
  if (m === 2) return isLeapYear(y) ? 29 : 28;
  return [4, 6, 9, 11].includes(m) ? 30 : 31;
}

/** 0 = Sunday … 6 = Saturday (Sakamoto's method). */
export function weekdayIndex(y: number, m: number, d: number): number {
  const t = [0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4] as const;
  const yy = m < 3 ? y - 1 : y;
  return (yy + Math.floor(yy / 4) - Math.floor(yy / 100) + Math.floor(yy / 400) + (t[m - 1] as number) + d) % 7;
}

/** Season in the northern hemisphere, by month. */
export function seasonOf(m: number): Season {
  if (m === 12 || m <= 2) return 'winter';
  if (m <= 5) return 'spring';
  if (m <= 8) return 'summer';
  return 'autumn';
}

export interface CalendarDate {
  year: number;
  month: number;
  day: number;
  weekday: string;
  monthName: string;
  season: Season;
}

export function dateOf(year: number, month: number, day: number): CalendarDate {
  return {
    year, month, day,
    weekday: WEEKDAYS[weekdayIndex(year, month, day)] as string,
    monthName: MONTHS[month - 1] as string,
    season: seasonOf(month),
  };
}

/** A random real date between 2015 and 2026 (optionally in a given month). */
export function randomDate(r: Random, month?: number): CalendarDate {
  const year = r.between(2015, 2026);
  const m = month ?? r.between(1, 12);
  return dateOf(year, m, r.between(1, daysInMonth(year, m)));
}

/** The date n days after d. */
export function addDays(d: CalendarDate, n: number): CalendarDate {
  let { year, month, day } = d;
  day += n;
  while (day > daysInMonth(year, month)) {
    day -= daysInMonth(year, month);
    month += 1;
    if (month > 12) { month = 1; year += 1; }
  }
  return dateOf(year, month, day);
}

/** "Saturday, 14 June 2025", "14 June", "Saturday 14 June" … */
export function formatDate(d: CalendarDate, style: 'full' | 'dayMonth' | 'weekdayDayMonth' | 'monthDayYear'): string {
  switch (style) {
    case 'full': return `${d.weekday}, ${d.day} ${d.monthName} ${d.year}`;
    case 'dayMonth': return `${d.day} ${d.monthName}`;
    case 'weekdayDayMonth': return `${d.weekday} ${d.day} ${d.monthName}`;
    case 'monthDayYear': return `${d.monthName} ${d.day}, ${d.year}`;
  }
}

/** "9:30 in the morning", "4:15 in the afternoon". */
export function clockTime(r: Random, from = 7, to = 20): { text: string; hour: number } {
  const hour = r.between(from, to);
  const minute = r.pick([0, 0, 15, 30, 45, 10, 20, 40, 50]);
  const h12 = hour > 12 ? hour - 12 : hour;
  const part = hour < 12 ? 'in the morning' : hour < 17 ? 'in the afternoon' : 'in the evening';
  return { text: `${h12}:${String(minute).padStart(2, '0')} ${part}`, hour };
}
