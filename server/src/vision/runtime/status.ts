/** Load outcome of one network in one worker, reported to the pool and to readiness checks. */
export interface NetworkStatus {
  id: string;
  ok: boolean;
  error?: string;
  loadMs: number;
}
