// The scrape job's name, as Fleet writes it into Prometheus' config and into PromQL between quotes.

/** a job name as `fleet prometheus config` accepts it (it goes into PromQL between quotes) */
export function checkJobName(job: string): string {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(job))
    throw new Error(`job name ${JSON.stringify(job)}: use letters, digits, . _ - (at most 64)`);
  return job;
}
