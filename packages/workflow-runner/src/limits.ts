/** Documented Cloud Workflows resource limits (wf:quotas), overridable in tests. */
export interface Limits {
  /** Cumulative size of all live variables, in bytes. */
  memoryBytes: number;
  /** Steps executed per execution (retries and nested steps count). */
  steps: number;
  /** Subworkflow call depth, `main` included. */
  callStackDepth: number;
  expressionLength: number;
  assignmentsPerStep: number;
  conditionsPerSwitch: number;
  maxBranches: number;
  parallelNestingDepth: number;
  /** Maximum HTTP response body size, in bytes. */
  httpResponseBytes: number;
}

export const DEFAULT_LIMITS: Limits = {
  memoryBytes: 512 * 1024,
  steps: 100_000,
  callStackDepth: 20,
  expressionLength: 400,
  assignmentsPerStep: 50,
  conditionsPerSwitch: 50,
  maxBranches: 10,
  parallelNestingDepth: 2,
  httpResponseBytes: 2 * 1024 * 1024,
};

/** HTTP timeouts, in seconds (wf:reference/stdlib/http/request). */
export const HTTP_TIMEOUT_DEFAULT_SECONDS = 300;
export const HTTP_TIMEOUT_MAX_SECONDS = 1800;
