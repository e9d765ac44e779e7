// Log-linear histograms on the host: the same geometry as the module's
// (assembly/stats/histogram.ts), so module histograms (handshake, connect) and host
// histograms (request latency, kernel runs) decode and merge the same way.
//
//   value v (µs) → bucket: v < 2^S: v;  else e = ⌊log2 v⌋: 2^S + (e − S)·2^S + (v >> (e − S)) − 2^S
//   S = subBits (5 in the module): ≤ 1/32 relative bucket width.
//
// Module storage (read with fromModule): counts[buckets] then total, sum, min, max (u64).

export interface Percentiles {
  /** Samples. */
  count: number;
  p50: number;
  p99: number;
  p999: number;
  min: number;
  max: number;
  mean: number;
}

export class LogLinearHistogram {
  readonly counts: Float64Array;
  total = 0;
  sum = 0;
  min = Infinity;
  max = 0;
  private readonly sub: number;

  constructor(readonly subBits = 5, readonly buckets = (1 << subBits) + (32 - subBits) * (1 << subBits)) {
    if (!Number.isInteger(subBits) || subBits < 1 || subBits > 16) throw new RangeError(`histogram subBits ${subBits} out of range`);
    this.sub = 1 << subBits;
    this.counts = new Float64Array(buckets);
  }

  /** Bucket of value v (µs, clamped to 0 .. 2^32 − 1). */
  bucketOf(v: number): number {
    const x = Math.min(0xffffffff, Math.max(0, Math.floor(v))) >>> 0;
    if (x < this.sub) return x;
    const e = 31 - Math.clz32(x);
    const shift = e - this.subBits;
    return Math.min(this.buckets - 1, this.sub + shift * this.sub + ((x >>> shift) - this.sub));
  }

  /** Lowest value in bucket b. */
  lowOf(b: number): number {
    if (b < this.sub) return b;
    const shift = Math.floor((b - this.sub) / this.sub);
    const mant = ((b - this.sub) % this.sub) + this.sub;
    return mant * 2 ** shift;
  }

  /** Highest value in bucket b (inclusive). */
  highOf(b: number): number {
    return b + 1 >= this.buckets ? 0xffffffff : this.lowOf(b + 1) - 1;
  }

  record(us: number): void {
    const v = Math.min(0xffffffff, Math.max(0, Math.floor(us)));
    this.counts[this.bucketOf(v)]++;
    this.total++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  merge(o: LogLinearHistogram): void {
    if (o.buckets !== this.buckets || o.subBits !== this.subBits) throw new Error("histogram geometries differ");
    for (let i = 0; i < this.buckets; i++) this.counts[i] += o.counts[i];
    this.total += o.total;
    this.sum += o.sum;
    if (o.total > 0) {
      this.min = Math.min(this.min, o.min);
      this.max = Math.max(this.max, o.max);
    }
  }

  /**
   * Value at quantile q (0..1): the midpoint of the bucket holding the ⌈q·total⌉-th
   * sample, clamped to [min, max] (exact below 2^subBits µs).
   */
  quantile(q: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let b = 0; b < this.buckets; b++) {
      seen += this.counts[b];
      if (seen >= rank) {
        const lo = this.lowOf(b);
        const mid = b < this.sub ? lo : (lo + this.highOf(b)) / 2;
        return Math.min(this.max, Math.max(this.min, mid));
      }
    }
    return this.max;
  }

  percentiles(): Percentiles {
    return {
      count: this.total,
      p50: this.quantile(0.5),
      p99: this.quantile(0.99),
      p999: this.quantile(0.999),
      min: this.total ? this.min : 0,
      max: this.max,
      mean: this.total ? this.sum / this.total : 0,
    };
  }

  /** Points of the cumulative distribution (upper bucket edge, fraction ≤), for charts. */
  cdf(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    if (this.total === 0) return out;
    let seen = 0;
    for (let b = 0; b < this.buckets; b++) {
      if (this.counts[b] === 0) continue;
      seen += this.counts[b];
      out.push([Math.min(this.max, this.highOf(b)), seen / this.total]);
    }
    return out;
  }

  /**
   * Reads a module histogram: `words` = the HIST_BUCKETS counts followed by
   * total, sum, min, max (u64 little-endian, as BigUint64Array over linear memory).
   */
  static fromModule(words: BigUint64Array, subBits: number, buckets: number): LogLinearHistogram {
    if (words.length < buckets + 4) throw new RangeError(`module histogram needs ${buckets + 4} words, got ${words.length}`);
    const h = new LogLinearHistogram(subBits, buckets);
    for (let i = 0; i < buckets; i++) h.counts[i] = Number(words[i]);
    h.total = Number(words[buckets]);
    h.sum = Number(words[buckets + 1]);
    h.min = h.total ? Number(words[buckets + 2]) : Infinity;
    h.max = Number(words[buckets + 3]);
    return h;
  }
}
