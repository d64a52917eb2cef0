// What the etcd v2 compatible endpoints take from the member's flags.
export interface V2Options {
  /** Bodies larger than this are refused (--max-request-bytes). */
  readonly maxRequestBytes: number;
  /** Bytes a stream=true watch may have unsent before it is ended (--max-watch-buffer-bytes). */
  readonly maxWatchBufferBytes: number;
}
