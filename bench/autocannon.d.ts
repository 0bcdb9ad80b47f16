/**
 * The slice of autocannon 8's programmatic API the benchmark uses (the package ships no types).
 * See https://github.com/mcollina/autocannon#api.
 */
declare module "autocannon" {
  namespace autocannon {
    /** What autocannon hands `setupRequest` and expects back (a falsy value skips the request). */
    interface RequestParams {
      method?: string;
      path?: string;
      headers?: Record<string, string>;
      body?: string | Buffer;
    }

    interface RequestSpec extends RequestParams {
      setupRequest?: (request: RequestParams, context: Record<string, unknown>) => RequestParams | null;
    }

    interface Options {
      url: string;
      connections?: number;
      pipelining?: number;
      /** Seconds. */
      duration?: number;
      /** Requests per second across all connections. */
      overallRate?: number;
      /** Seconds before a request counts as timed out. Default 10. */
      timeout?: number;
      requests?: RequestSpec[];
      /** Skip the coordinated-omission "correction" of rate-limited runs. */
      ignoreCoordinatedOmission?: boolean;
    }

    /** Latency in ms, requests and throughput per second; percentiles as `p50`, `p97_5`, … */
    interface Histogram {
      average: number;
      mean: number;
      stddev: number;
      min: number;
      max: number;
      total: number;
      p50: number;
      p90: number;
      p99: number;
      p99_9: number;
      [percentile: `p${string}`]: number;
    }

    interface Result {
      duration: number;
      errors: number;
      timeouts: number;
      non2xx: number;
      resets: number;
      "2xx": number;
      statusCodeStats: Record<string, { count: number }>;
      latency: Histogram;
      requests: Histogram & { sent: number };
      throughput: Histogram;
    }
  }

  function autocannon(options: autocannon.Options): Promise<autocannon.Result>;

  export default autocannon;
}
