import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export function createGradeMetrics(registry: Registry) {
  const registers = [registry];
  return {
    ingested: new Counter({
      name: 'aula_grades_ingested_total',
      help: 'Grade records by source and outcome (accepted, duplicate, rejected)',
      labelNames: ['source', 'outcome'],
      registers,
    }),
    batchRecords: new Histogram({
      name: 'aula_grades_commit_batch_records',
      help: 'Records per group commit',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000],
      registers,
    }),
    batchRequests: new Histogram({
      name: 'aula_grades_commit_batch_requests',
      help: 'Requests gathered into one group commit',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
      registers,
    }),
    commitSeconds: new Histogram({
      name: 'aula_grades_commit_duration_seconds',
      help: 'Time to commit one group (transaction, including fsync)',
      buckets: [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    waitSeconds: new Histogram({
      name: 'aula_grades_commit_wait_seconds',
      help: 'Time from a request reaching the writer to its acknowledgement',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    commitFailures: new Counter({
      name: 'aula_grades_commit_failures_total',
      help: 'Failed group commits by reason (retry, unavailable, error)',
      labelNames: ['reason'],
      registers,
    }),
    countersDirty: new Gauge({
      name: 'aula_grades_counters_dirty',
      help: '1 while live counters may differ from SQL (an update was lost); reconcile clears it',
      registers,
    }),
  };
}

export type GradeMetrics = ReturnType<typeof createGradeMetrics>;
