/** A progress line on a terminal (stderr), rewritten in place at most a few times per second. */
export class ProgressLine {
  private last = 0;
  private readonly tty = process.stderr.isTTY === true;

  constructor(private readonly label: string) {}

  update(done: number, total: number, unit: "bytes" | "items" = "items"): void {
    if (!this.tty) return;
    const now = Date.now();
    if (now - this.last < 200 && done < total) return;
    this.last = now;
    const pct = total > 0 ? Math.min(100, Math.floor((done / total) * 100)) : 0;
    const fmt = unit === "bytes" ? (n: number) => `${(n / 1e6).toFixed(1)} MB` : (n: number) => String(n);
    process.stderr.write(`\r${this.label}: ${pct}% (${fmt(done)} of ${fmt(total)})\x1b[K`);
  }

  done(): void {
    if (this.tty) process.stderr.write("\n");
  }
}
