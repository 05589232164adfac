// Redis-style log lines ("pid:M 25 Nov 2026 17:44:27.123 * Ready to accept connections") to
// stdout or the logfile, filtered by loglevel.
import { appendFileSync } from 'node:fs';

export type LogLevel = 'debug' | 'verbose' | 'notice' | 'warning';
const ORDER: Record<string, number> = { debug: 0, verbose: 1, notice: 2, warning: 3, nothing: 4 };
const MARK: Record<LogLevel, string> = { debug: '.', verbose: '-', notice: '*', warning: '#' };
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export class NodeLog {
  role = 'M';
  constructor(
    private level: () => string,
    private file: () => string,
  ) {}

  write(level: LogLevel, message: string): void {
    if (ORDER[level]! < ORDER[this.level()]!) return;
    const d = new Date();
    const p2 = (n: number) => String(n).padStart(2, '0');
    const stamp = `${p2(d.getDate())} ${MONTHS[d.getMonth()]} ${d.getFullYear()} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
    const line = `${process.pid}:${this.role} ${stamp} ${MARK[level]} ${message}\n`;
    const file = this.file();
    if (file) appendFileSync(file, line);
    else process.stdout.write(line);
  }
}
